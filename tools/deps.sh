#!/usr/bin/env bash
# Makes sure the Debian packages a step needs are installed.
#   tools/deps.sh build|run|test|bench|fuzz
# As root, missing packages are installed with apt-get; otherwise the exact apt-get command is
# printed and the step stops.  Nothing is downloaded from anywhere but the Debian archive.
set -euo pipefail

build=(make gcc binutils python3)
run=("${build[@]}" qemu-system-x86 grub-common grub-pc-bin grub-efi-amd64-bin xorriso mtools ovmf)
test=("${run[@]}" clang lld libclang-rt-14-dev libcriterion-dev valgrind)
fuzz=(make clang libclang-rt-14-dev python3)
bench=("${test[@]}" libjemalloc2 libmimalloc2.0 libtcmalloc-minimal4 gnuplot-nox)

step=${1:-}
case "$step" in
	build) wanted=("${build[@]}") ;;
	run) wanted=("${run[@]}") ;;
	test) wanted=("${test[@]}") ;;
	fuzz) wanted=("${fuzz[@]}") ;;
	bench) wanted=("${bench[@]}") ;;
	*) echo "usage: $0 build|run|test|fuzz|bench" >&2; exit 2 ;;
esac

missing=()
for pkg in "${wanted[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
	[[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

command="apt-get install -y --no-install-recommends ${missing[*]}"
if [[ $(id -u) -ne 0 ]]; then
	echo "ferrite: missing Debian packages for '$step'. Install them with:" >&2
	echo "  sudo apt-get update && sudo $command" >&2
	exit 1
fi
echo "ferrite: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
