#!/usr/bin/env bash
# Builds the Debian package of sanport with dpkg-deb (no registry, no debhelper):
#   /usr/bin/sanport                      the launcher: the bundled runtime with sanport's JVM flags
#   /usr/lib/sanport/lib, .../java        the jars and a jlinked Java runtime (packaging/stage-layout.sh, the
#                                         layout the container image of docker/ is made of too)
#   /lib/systemd/system/sanport.service   the service (not enabled or started on install)
#   /etc/sanport/sanport.json             a configuration that exports nothing (a conffile)
#   /var/lib/sanport                      a place for image files (the unit's StateDirectory)
#
#   packaging/build-deb.sh     build the project if sources changed, then the package; the last line printed
#                              is the path of the .deb (packaging/target/sanport_VERSION_ARCH.deb)
#   SKIP_BUILD=1               use cli/target/lib as it is (no Maven)
#   DEB_MAINTAINER='N <e>'     the Maintainer field (default: this checkout's git user)
#
# Needs a JDK >= 22 (found by scripts/lib.sh), Maven to build, dpkg-deb (Debian's dpkg).
set -euo pipefail
PKG_DIR=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
SANPORT_ROOT=$(dirname "$PKG_DIR")
. "$SANPORT_ROOT/scripts/lib.sh"
say() { echo "build-deb: $*" >&2; }
umask 022
command -v dpkg-deb >/dev/null || { say "no dpkg-deb (Debian's dpkg package)"; exit 1; }

OUT_DIR=$PKG_DIR/target
STAGE=$OUT_DIR/stage
rm -rf "$STAGE"
mkdir -p "$STAGE"

# 1. the jars and the runtime
"$PKG_DIR/stage-layout.sh" "$STAGE"

# 2. the version, from the cli jar's manifest (what 'sanport --version' prints): Maven's 0.1.0-SNAPSHOT is
# Debian's 0.1.0~SNAPSHOT, which sorts before the release 0.1.0
sanport_find_jdk
cli_jar=$(ls "$STAGE"/usr/lib/sanport/lib/sanport-cli-*.jar)
mvn_version=$(cd "$OUT_DIR" && rm -rf META-INF && "$JAVA_HOME/bin/jar" -xf "$cli_jar" META-INF/MANIFEST.MF &&
    sed -n 's/^Implementation-Version: *//p' META-INF/MANIFEST.MF | tr -d '\r'; rm -rf "$OUT_DIR/META-INF")
[ -n "$mvn_version" ] || { say "$cli_jar has no Implementation-Version in its manifest"; exit 1; }
version=${mvn_version//-/\~}
arch=$(dpkg --print-architecture)

# 3. the launcher, with the JVM flags of ./sanport (scripts/lib.sh) and of docker/Dockerfile's ENTRYPOINT
mkdir -p "$STAGE/usr/bin"
cat >"$STAGE/usr/bin/sanport" <<EOF
#!/bin/sh
# sanport $version (Debian package): runs the Java runtime bundled in /usr/lib/sanport/java, so no system JDK
# is needed. Extra JVM flags: SANPORT_JAVA_OPTS='-Xmx1g' sanport ...
exec /usr/lib/sanport/java/bin/java ${sanport_java_flags[*]} \${SANPORT_JAVA_OPTS:-} \\
    -cp '/usr/lib/sanport/lib/*' io.sanport.cli.Main "\$@"
EOF
chmod 0755 "$STAGE/usr/bin/sanport"

# 4. the service and its configuration
install -D -m 0644 "$PKG_DIR/sanport.service" "$STAGE/lib/systemd/system/sanport.service"
install -D -m 0644 "$PKG_DIR/sanport.json" "$STAGE/etc/sanport/sanport.json"
install -D -m 0644 "$SANPORT_ROOT/README.md" "$STAGE/usr/share/doc/sanport/README.md"
# the unit's StateDirectory, there before the first start so images can be put in it (dpkg removes it only empty)
install -d -m 0755 "$STAGE/var/lib/sanport"

# 5. the control files
mkdir -p "$STAGE/DEBIAN"
install -m 0755 "$PKG_DIR"/debian/postinst "$PKG_DIR"/debian/prerm "$PKG_DIR"/debian/postrm "$STAGE/DEBIAN/"
echo /etc/sanport/sanport.json >"$STAGE/DEBIAN/conffiles"
maintainer=${DEB_MAINTAINER:-$(git -C "$SANPORT_ROOT" config user.name 2>/dev/null || true) <$(git -C "$SANPORT_ROOT" config user.email 2>/dev/null || true)>}
[ "$maintainer" != " <>" ] || maintainer="sanport maintainers <root@localhost>"
# the runtime dependencies are runtime.list's: the libraries sanport loads, and the RDMA NIC providers as a
# recommendation (NVMe/TCP needs none)
mapfile -t runtime < <(sanport_packages runtime)
depends=() recommends=()
for p in "${runtime[@]}"; do
    case $p in lib*) depends+=("$p");; *) recommends+=("$p");; esac
done
join() { local IFS=,; echo "$*" | sed 's/,/, /g'; }
cat >"$STAGE/DEBIAN/control" <<EOF
Package: sanport
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)
Depends: $(join "${depends[@]}")
Recommends: $(join "${recommends[@]}")
Section: net
Priority: optional
Description: NVMe-over-Fabrics target (NVMe/TCP, NVMe/RDMA) in Java with io_uring
 sanport exports the block devices, NVMe namespaces and image files of a server
 to the other servers of a cluster over NVMe/TCP and NVMe/RDMA; the disks are
 driven by io_uring. It bundles its own Java runtime: no system JDK is needed.
 .
 The sanport service is not started on install: the default configuration,
 /etc/sanport/sanport.json, exports nothing. Edit it, then run
 'systemctl enable --now sanport'.
EOF
(cd "$STAGE" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) >"$STAGE/DEBIAN/md5sums"

# 6. the package (gzip: the runtime's modules are compressed already, and xz would take far longer for little)
deb=$OUT_DIR/sanport_${version}_${arch}.deb
rm -f "$deb"
dpkg-deb --root-owner-group -Zgzip --build "$STAGE" "$deb" >/dev/null
say "sanport $version ($arch): $(du -h "$deb" | cut -f1), installs $(du -sh --exclude=DEBIAN "$STAGE" | cut -f1)"
rm -rf "$STAGE"
echo "$deb"
