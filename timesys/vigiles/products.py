"""Products: the LinuxLink-era (flavour `products`) name for groups."""
from __future__ import annotations

from typing import Any, Optional

from timesys.core import endpoints
from timesys.vigiles._defaults import cfg_group_if_none


def get_products() -> Any:
    return endpoints.PRODUCTS_LIST.call()


def create_product(product_name: str, product_description: Optional[str] = None) -> Any:
    return endpoints.PRODUCT_CREATE.call(product_name=product_name, product_description=product_description)


def get_product_info(product_token: Optional[str] = None) -> Any:
    return endpoints.PRODUCT_INFO.call(product_token=cfg_group_if_none(product_token))
