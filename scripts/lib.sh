# Shared by scripts/demo and scripts/check: install what is missing from
# Debian's archive, and build. Source it; do not run it.

FMN_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Everything the build, the demo and the test suite use. The install test
# formats the man pages (groff-base), has systemd-analyze check the unit
# and its man: links (systemd, man-db) and systemd-sysusers the user.
# OpenSSL checks fedmsg signatures; the publisher signs with
# python3-cryptography.
FMN_PACKAGES=(
	build-essential cmake pkg-config
	libzmq3-dev libsqlite3-dev libcurl4-openssl-dev libircclient-dev
	libpcre2-dev libjansson-dev libinih-dev libsystemd-dev libmicrohttpd-dev
	libssl-dev
	python3 python3-zmq python3-aiosmtpd python3-cryptography ngircd sqlite3
	groff-base man-db systemd iproute2 mount
)

fmn_install_packages() {
	local missing=() p
	for p in "${FMN_PACKAGES[@]}" "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q "install ok installed" || missing+=("$p")
	done
	if [ ${#missing[@]} -eq 0 ]; then
		return 0
	fi
	echo "installing: ${missing[*]}"
	if [ "$(id -u)" -ne 0 ]; then
		echo "error: these packages are missing and installing them needs root: ${missing[*]}" >&2
		return 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}"
	# ngircd's package starts a system instance where it can; tests run
	# their own on private ports.
}

# fmn_build DIR [CMAKE ARGS...]
fmn_build() {
	local dir=$1
	shift
	cmake -S "$FMN_ROOT" -B "$dir" "$@" >/dev/null
	cmake --build "$dir" -j"$(nproc)"
}
