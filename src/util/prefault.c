/* A short command's start-up on the bench's VM went more into page faults
 * than into its own work. A page fault costs about 11 us there whatever it
 * does (2026-12-03: touching 8 fresh anonymous pages 11.5 us each,
 * MADV_POPULATE_WRITE of the same 1.1 us each; the first touch of 64 KiB
 * of code, which the kernel maps 16 pages at a time, 13-25 us), and a
 * 100-byte `age -e` took 13 of them in gitseal's own code, constants and
 * variables after main started. Mapping all of them ahead, one system call
 * per segment (about 1 MiB, already in the page cache), costs 30-40 us.
 * The writable segment's pages the loader's relocations did not already
 * copy (.data and .bss, a few pages) are made then too. Best effort: a
 * kernel before Linux 5.14 refuses the advice and the pages fault in one
 * by one as before. */
#include <elf.h>
#include <link.h>
#include <stdint.h>
#include <sys/auxv.h>
#include <sys/mman.h>

#include "gitseal/prefault.h"

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22 /* Linux 5.14 */
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

/* In .text.startup, beside main, as one function: called from another
 * page of the code, that page would fault in first. The program headers
 * come from the kernel's auxiliary vector (the executable's own). */
__attribute__((section(".text.startup"))) void gs_prefault_program(void)
{
	const ElfW(Phdr) *phdr = (const ElfW(Phdr) *)getauxval(AT_PHDR), *ph;
	size_t count = getauxval(AT_PHNUM);
	uintptr_t page = getauxval(AT_PAGESZ), bias = 0, relro_end = 0, start, end;
	int advice;

	if (!phdr || !page || (page & (page - 1)))
		return;
	for (ph = phdr; ph < phdr + count; ph++) {
		if (ph->p_type == PT_PHDR)
			bias = (uintptr_t)phdr - ph->p_vaddr;
		else if (ph->p_type == PT_GNU_RELRO)
			relro_end = ph->p_vaddr + ph->p_memsz;
	}
	for (ph = phdr; ph < phdr + count; ph++) {
		if (ph->p_type != PT_LOAD)
			continue;
		start = ph->p_vaddr;
		end = ph->p_vaddr + ph->p_memsz;
		advice = MADV_POPULATE_READ;
		if (ph->p_flags & PF_W) {
			/* read-only since relocation: writing there would fail */
			if (start < (relro_end & ~(page - 1)))
				start = relro_end & ~(page - 1);
			advice = MADV_POPULATE_WRITE;
		}
		start = (bias + start) & ~(page - 1);
		end = (bias + end + page - 1) & ~(page - 1);
		if (start < end)
			(void)madvise((void *)start, end - start, advice);
	}
}
