/*
 * The Multiboot2 header: GRUB finds it in the first 32 KiB of the ELF file (8-byte aligned) and
 * loads the kernel's segments at their physical addresses.  No tags besides the end tag: the
 * memory map, command line and modules are provided by default, and leaving out the EFI boot
 * services tag makes GRUB exit boot services and enter in 32-bit protected mode under both BIOS
 * and UEFI, so there is one entry path.
 */
#define MB2_HEADER_MAGIC 0xe85250d6
#define MB2_ARCH_I386    0

	.section .multiboot2, "a"
	.balign 8
mb2_header:
	.long MB2_HEADER_MAGIC
	.long MB2_ARCH_I386
	.long mb2_header_end - mb2_header
	.long 0x100000000 - (MB2_HEADER_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
	.balign 8
	.short 0        /* end tag: type */
	.short 0        /* flags */
	.long 8         /* size */
mb2_header_end:

	.section .note.GNU-stack, "", @progbits
