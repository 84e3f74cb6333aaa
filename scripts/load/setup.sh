#!/bin/sh
# System tools the load measurements need (run once, as root, on a Debian or Ubuntu machine):
# wrk drives scripts/bench_bare.py (the side-by-side ratio against a bare app). Locust and gunicorn
# come with the Python extras (pip install -e '.[load,deploy]').
set -e
apt-get install -y wrk
