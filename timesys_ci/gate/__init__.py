"""The build gate: policy (what fails a build) and its evaluation on a report."""
