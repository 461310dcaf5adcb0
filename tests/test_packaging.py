def test_packages_import() -> None:
    import timesys  # noqa: F401
    import timesys_ci  # noqa: F401
