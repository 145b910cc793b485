"""Location sources (NMEA sentences, gpsd's JSON, the synthetic track), the battery from
/sys/class/power_supply, and the optional GPIO button without gpiod."""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path

import pytest

from overt_camera.device import battery
from overt_camera.location import Location, parse_gpsd, parse_nmea
from overt_camera.triggers import GpioButton, TriggerRefused

# The example sentences of the NMEA 0183 reference descriptions, with their checksums.
RMC = "$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6A"
GGA = "$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47"


def test_nmea_fixes_are_read_and_bad_sentences_ignored() -> None:
    fix = parse_nmea(RMC, 100.0)
    assert fix is not None and (fix.lat, fix.lon) == (48.1173, 11.516667)
    gga = parse_nmea(GGA, 100.0)
    assert gga is not None and gga.accuracy_m == 4.5 and gga.lat == 48.1173
    assert parse_nmea(RMC.replace("*6A", "*00"), 1.0) is None  # bad checksum
    assert parse_nmea(RMC.replace(",A,", ",V,"), 1.0) is None  # receiver says: no fix
    assert parse_nmea(GGA.replace(",1,08,", ",0,08,"), 1.0) is None
    south_west = "$GPRMC,000000,A,3351.000,S,15112.000,W,0,0,010100,,"
    fix = parse_nmea(south_west, 1.0)
    assert fix is not None and fix.lat < 0 and fix.lon < 0
    assert parse_nmea("$GPGSV,3,1,11,03,03,111,00*74", 1.0) is None
    assert parse_nmea("garbage", 1.0) is None


def test_gpsd_reports_become_fixes() -> None:
    tpv = {"class": "TPV", "mode": 3, "lat": 51.5, "lon": -0.12, "eph": 6.5}
    fix = parse_gpsd(json.dumps(tpv).encode(), 5.0)
    assert fix is not None and (fix.lat, fix.lon, fix.accuracy_m) == (51.5, -0.12, 6.5)
    assert parse_gpsd(json.dumps(tpv | {"mode": 1}).encode(), 5.0) is None  # no fix
    assert parse_gpsd(b'{"class":"SKY"}', 5.0) is None
    assert parse_gpsd(b"{", 5.0) is None


def _wait(location: Location, count: int) -> None:
    deadline = time.monotonic() + 20
    while len(location.fixes(0, time.time() + 10)) < count and time.monotonic() < deadline:
        time.sleep(0.05)


def test_an_nmea_file_feeds_fixes(tmp_path: Path) -> None:
    port = tmp_path / "ttyGPS"
    port.write_text(f"{GGA}\r\n{RMC}\r\n")
    location = Location(f"nmea:{port}")
    location.start()
    _wait(location, 2)
    location.stop()
    assert len(location.fixes(0, time.time() + 1)) == 2


def test_gpsd_over_its_socket(tmp_path: Path) -> None:
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def gpsd() -> None:  # speaks gpsd's protocol: a WATCH in, JSON reports out
        conn, _ = server.accept()
        assert conn.recv(100).startswith(b"?WATCH=")
        conn.sendall(b'{"class":"VERSION","release":"3.25"}\n')
        conn.sendall(b'{"class":"TPV","mode":2,"lat":51.5007,"lon":-0.1246}\n')
        time.sleep(2)
        conn.close()

    threading.Thread(target=gpsd, daemon=True).start()
    location = Location(f"gpsd:127.0.0.1:{port}")
    location.start()
    _wait(location, 1)
    location.stop()
    server.close()
    (fix,) = location.fixes(0, time.time() + 1)
    assert (fix.lat, fix.lon) == (51.5007, -0.1246)


def test_the_synthetic_track_moves() -> None:
    location = Location("synthetic")
    location.start()
    _wait(location, 2)
    location.stop()
    first, second = location.fixes(0, time.time() + 1)[:2]
    assert (first.lat, first.lon) != (second.lat, second.lon)
    assert abs(first.lat - 51.5) < 0.01


def test_battery_from_power_supply(tmp_path: Path) -> None:
    assert battery(tmp_path / "none").percent is None
    mains = tmp_path / "AC"
    mains.mkdir()
    (mains / "type").write_text("Mains\n")
    cell = tmp_path / "BAT0"
    cell.mkdir()
    (cell / "type").write_text("Battery\n")
    (cell / "capacity").write_text("73\n")
    (cell / "status").write_text("Discharging\n")
    charge = battery(tmp_path)
    assert (charge.percent, charge.charging) == (73.0, False)
    (cell / "status").write_text("Charging\n")
    assert battery(tmp_path).charging is True


def test_a_gpio_button_without_gpiod_says_what_to_install() -> None:
    try:
        import gpiod  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("gpiod is installed here")
    with pytest.raises(TriggerRefused, match="gpiod Python module is not installed"):
        GpioButton("/dev/null", 17).start(lambda request: None)  # a path that exists
