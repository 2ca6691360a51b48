/*
 * Multiboot2 boot information captured from real boots, byte for byte, for golden tests and fuzz
 * seeds.  Captured with QEMU 7.2 (-accel tcg -cpu max -m 4G) and GRUB 2.06-13+deb12u2 booting a
 * stub kernel, loaded at [0x100000, 0x100092), that wrote EBX and the information it pointed at
 * to the debug console.  GRUB was told "multiboot2 /boot/k.elf console=serial mem=test" and
 * "module2 /boot/grub/grub.cfg initrd-config".
 *
 * grub_bios_4g_info:  SeaBIOS.  8 memory-map entries, the last the AMD HyperTransport hole
 *                     0xfd00000000-0xffffffffff; the module at [0x101000, 0x101084).
 * grub_uefi_4g_info:  OVMF 2022.11.  19 memory-map entries, among them type 20 (EFI runtime
 *                     services code) and ACPI NVS at 8 MiB; the module at [0x4000, 0x4084); the
 *                     EFI memory map (tag 17) and the ACPI RSDP (tag 15) among the tags ferrite skips.
 */
#ifndef FERRITE_HOST_GRUB_BOOT_INFO_H
#define FERRITE_HOST_GRUB_BOOT_INFO_H

#include <stdint.h>

/* Where the stub kernel lay, and where GRUB put the information (EBX). */
#define GRUB_STUB_KERNEL_START UINT64_C(0x100000)
#define GRUB_STUB_KERNEL_END   UINT64_C(0x100092)
#define GRUB_BIOS_4G_INFO_PHYS UINT64_C(0x100168)
#define GRUB_UEFI_4G_INFO_PHYS UINT64_C(0x5000)

extern const uint8_t grub_bios_4g_info[736];
extern const uint8_t grub_uefi_4g_info[6752];

#endif
