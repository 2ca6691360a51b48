/* The COM1 serial port: the kernel's console, polled (no interrupts). */
#ifndef FERRITE_ARCH_SERIAL_H
#define FERRITE_ARCH_SERIAL_H

#include <stdbool.h>
#include <stddef.h>

void serial_init(void);

/* Writes `n` bytes, turning "\n" into "\r\n" for terminals. */
void serial_write(const char *s, size_t n);

/* Waits for and returns the next received byte. */
char serial_read(void);

#endif
