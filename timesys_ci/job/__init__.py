"""The main CI job: check a manifest, upload it, wait for the report, gate the build, write the outputs."""
