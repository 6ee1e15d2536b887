from __future__ import annotations

import click

simulate = click.Group("simulate")
