from __future__ import annotations

import click

menus = click.Group("menus")
