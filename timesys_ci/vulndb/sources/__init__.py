"""One parser per vulnerability feed: NVD CVE API 2.0, CVE JSON 5, OSV, CISA KEV, FIRST EPSS.

Parsers turn decoded documents into :class:`~timesys_ci.vulndb.record.VulnRecord`
objects (or :class:`~timesys_ci.vulndb.sources.common.Withdrawn` markers); they do
no I/O policy. Reading files, archives and directories is :mod:`timesys_ci.vulndb.importer`'s job.
"""
