"""`overt map`: the offline base map under the GPS tracks (overt.portal.basemap)."""

from __future__ import annotations

from pathlib import Path

import click


@click.group("map")
def map_group() -> None:
    """The offline base map: the built-in London one or the force's own area."""


@map_group.command("check")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
def check(file: Path) -> None:
    """Check that FILE can be the base map, and say what it holds.

    FILE is a GeoJSON FeatureCollection in WGS84 longitude and latitude (for example an
    export of the force's area from OpenStreetMap or Ordnance Survey Open Roads, made with
    ogr2ogr or osmium). Prints its features by geometry type and its bounds, then the
    setting to use it: OVERT_MAP_AREA_FILE=<absolute path>. Exit 2: the file is missing,
    is not GeoJSON, or has a position out of range (the message names the feature).
    """
    from overt.portal.basemap import load

    found = load(file)  # Invalid ends as a message and exit 2 (overt.cli.main)
    kinds: dict[str, int] = {}
    for feature in found.features:
        kind = feature["geometry"]["type"]
        kinds[kind] = kinds.get(kind, 0) + 1
    west, south, east, north = found.bounds
    click.echo(f"{found.name}: {len(found.features)} features")
    for kind, count in sorted(kinds.items()):
        click.echo(f"  {kind}: {count}")
    click.echo(f"bounds: west {west:.5f}, south {south:.5f}, east {east:.5f}, north {north:.5f}")
    if found.attribution:
        click.echo(f"attribution: {found.attribution}")
    click.echo(f"use it with: OVERT_MAP_AREA_FILE={file.resolve()}")
