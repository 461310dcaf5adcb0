import pytest

from timesys_ci.scope import package_scope


@pytest.mark.parametrize(
    "name, product, expected",
    [
        ("linux-yocto", None, "kernel"),
        ("linux", None, "kernel"),
        ("my-bsp-kernel", "linux_kernel", "kernel"),
        ("linux-firmware", None, "userspace"),
        ("linux-libc-headers", None, "userspace"),
        ("util-linux", None, "userspace"),
        ("glibc", None, "toolchain"),
        ("gcc-runtime", None, "toolchain"),
        ("binutils-cross-arm", None, "toolchain"),
        ("openssl", "openssl:openssl", "userspace"),
        ("u-boot", None, "userspace"),
    ],
)
def test_package_scope(name: str, product: str, expected: str) -> None:
    assert package_scope(name, product) == expected
