#!/usr/bin/python3
"""The libtorrent baseline for p2pnet's download benchmark.

Seeds FILE from one libtorrent session and downloads it into OUT_DIR with a
second one, both on 127.0.0.1, TCP only (no uTP, DHT, LSD, UPnP or NAT-PMP).
The torrent is made (the file hashed) before the clock starts and the seed is
added in seed mode, as p2pnet's timed runs reuse a cached manifest; the clock
runs from adding the downloading torrent to its torrent_finished_alert, which
libtorrent posts once every piece is written and its SHA-1 checked.
Prints one line: `MB/s SECONDS`.
"""
import os
import sys
import time

import libtorrent as lt


def session():
    return lt.session({
        "listen_interfaces": "127.0.0.1:0",
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "enable_outgoing_utp": False,
        "enable_incoming_utp": False,
        "alert_mask": lt.alert.category_t.status_notification | lt.alert.category_t.error_notification,
    })


def wait_for(ses, alert_type, deadline):
    while time.monotonic() < deadline:
        ses.wait_for_alert(500)
        for alert in ses.pop_alerts():
            if isinstance(alert, alert_type):
                return alert
            if isinstance(alert, lt.torrent_error_alert):
                sys.exit(f"libtorrent: {alert.message()}")
    sys.exit(f"libtorrent: no {alert_type.__name__} in time")


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: libtorrent_download.py FILE OUT_DIR")
    path, out_dir = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    files = lt.file_storage()
    lt.add_files(files, path)
    creator = lt.create_torrent(files)
    lt.set_piece_hashes(creator, os.path.dirname(path))
    info = lt.torrent_info(creator.generate())

    seeder, leecher = session(), session()
    seed = seeder.add_torrent({"ti": info, "save_path": os.path.dirname(path), "flags": lt.torrent_flags.seed_mode})
    deadline = time.monotonic() + 600
    start = time.monotonic()
    download = leecher.add_torrent({"ti": lt.torrent_info(info), "save_path": out_dir})
    download.connect_peer(("127.0.0.1", seeder.listen_port()))
    wait_for(leecher, lt.torrent_finished_alert, deadline)
    seconds = time.monotonic() - start
    if not download.status().is_seeding:
        sys.exit("libtorrent: finished but not complete")
    del seed
    print(f"{os.path.getsize(path) / 1e6 / seconds:.1f} {seconds:.3f}")


if __name__ == "__main__":
    main()
