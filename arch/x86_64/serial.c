#include "arch/x86_64/serial.h"

#include <stdint.h>

#include "arch/x86_64/cpu.h"

#define COM1 0x3f8

enum uart_reg {
	UART_DATA = 0,         /* with DLAB: divisor low byte */
	UART_IER = 1,          /* with DLAB: divisor high byte */
	UART_LCR = 3,
	UART_MCR = 4,
	UART_LSR = 5,
};

#define LCR_8N1        0x03
#define LCR_DLAB       0x80
#define MCR_DTR_RTS    0x03
#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY  0x20

/* The FIFO control register is left as the firmware set it: changing it flushes the receive
 * FIFO, which loses whatever was typed (or piped in) before the kernel started. */
void serial_init(void)
{
	outb(COM1 + UART_IER, 0);            /* polled: no interrupts */
	outb(COM1 + UART_LCR, LCR_DLAB);
	outb(COM1 + UART_DATA, 1);           /* divisor 1: 115200 baud */
	outb(COM1 + UART_IER, 0);
	outb(COM1 + UART_LCR, LCR_8N1);
	outb(COM1 + UART_MCR, MCR_DTR_RTS);
}

static void serial_putc(char c)
{
	while (!(inb(COM1 + UART_LSR) & LSR_THR_EMPTY))
		cpu_relax();
	outb(COM1 + UART_DATA, (uint8_t)c);
}

void serial_write(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			serial_putc('\r');
		serial_putc(s[i]);
	}
}

char serial_read(void)
{
	while (!(inb(COM1 + UART_LSR) & LSR_DATA_READY))
		cpu_relax();
	return (char)inb(COM1 + UART_DATA);
}
