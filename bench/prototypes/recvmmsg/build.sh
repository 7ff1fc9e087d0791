#!/bin/sh
# Builds the prototype addon without node-gyp: g++ against Node's headers (Node-API is ABI-stable,
# so /usr/include/node from Debian's nodejs-dev works for Node 24; NODE_INCLUDE overrides it).
# Output: build/recvmmsg.node. Never run at install: the prototype is not part of the product.
set -e
cd "$(dirname "$0")"
INCLUDE="${NODE_INCLUDE:-/usr/include/node}"
mkdir -p build
g++ -O2 -Wall -Wextra -Wno-missing-field-initializers -std=c++17 -shared -fPIC -DNODE_GYP_MODULE_NAME=recvmmsg -I"$INCLUDE" -o build/recvmmsg.node recvmmsg.cc
echo "built $(pwd)/build/recvmmsg.node"
