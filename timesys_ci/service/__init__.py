"""A local Vigiles-compatible service: real storage, signature checks, every endpoint, CVE matching.

It is the embedded default behind `upload --local`, a debugging peer for client
authors (`--explain-signatures`), and the peer of every end-to-end test.
"""
