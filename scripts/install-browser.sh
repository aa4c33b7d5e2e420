#!/bin/sh
# The browser tests (the endpoint's page, the HTML report) drive Debian's Chromium headless; pip cannot install it.
# Installs the chromium package when /usr/bin/chromium is missing; does nothing otherwise.
set -eu
[ -x /usr/bin/chromium ] && exit 0
if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends chromium
