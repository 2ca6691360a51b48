#!/usr/bin/env bash
# Builds a bootable ISO (BIOS and UEFI) holding the kernel and a GRUB menu that boots it at once.
#   tools/mkiso.sh KERNEL.elf OUT.iso "KERNEL COMMAND LINE"
set -euo pipefail

elf=$1 out=$2 cmdline=${3:-}
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

mkdir -p "$root/boot/grub"
cp "$elf" "$root/boot/ferrite.elf"
cat > "$root/boot/grub/grub.cfg" <<CFG
set timeout=0
set default=0
menuentry "ferrite" {
	multiboot2 /boot/ferrite.elf $cmdline
	boot
}
CFG

mkdir -p "$(dirname "$out")"
tmp=$(mktemp "$out.XXXXXX")   # built aside and renamed, so parallel builds never see half an image
log=$(mktemp)
if ! grub-mkrescue -o "$tmp" "$root" >"$log" 2>&1; then
	cat "$log" >&2; rm -f "$log" "$tmp"; exit 1
fi
rm -f "$log"
# grub-mkrescue quietly builds a BIOS-only or UEFI-only image when one GRUB platform is missing.
images=$(xorriso -indev "$tmp" -report_el_torito plain 2>/dev/null | grep -c 'El Torito boot img' || true)
if [[ "$images" -ne 2 ]]; then
	echo "mkiso: $out has $images boot image(s), expected 2 (BIOS and UEFI): are grub-pc-bin and grub-efi-amd64-bin installed?" >&2
	rm -f "$tmp"; exit 1
fi
mv "$tmp" "$out"
