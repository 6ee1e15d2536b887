from __future__ import annotations

import click

reports = click.Group("reports")
