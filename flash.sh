#!/usr/bin/env bash
# Builds or takes an image and writes it to a device or an image file (issue 7).
set -euo pipefail
echo "flash.sh: image building and flashing are not implemented yet (issue 7)" >&2
exit 2
