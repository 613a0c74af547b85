/* vmtier-guest: a freestanding multiboot program with a known hot set.
 *
 * It fills a guest-physical region with a verifiable pattern, then touches
 * a hot range of it (uniform, zipf-like, two regions at different rates or
 * shifting) and checks every word it reads.  Guest-physical ranges map linearly onto QEMU's memory backends,
 * so the hot set's host virtual addresses are known exactly: this is the
 * ground truth tiering tests measure against.
 *
 * Parameters (-append "key=value ..."; sizes take K/M/G, binary):
 *   mem=SIZE base=ADDR hot=SIZE hot_off=ADDR pattern=uniform|zipf|two|shift
 *   shift=SECONDS write=PERCENT time=SECONDS(0: forever) seed=N
 *   stop=ADDR (a 4K-aligned word below base, above the program, zeroed at
 *   start: once the host writes "STOP" there, through QEMU's memory, the
 *   guest ends as at time=, so a test ends the run when it is done with it
 *   instead of guessing how long it takes)
 *   skew=K (zipf: page floor(u^K * N) for uniform u, 1..8, default 3)
 *   hot2=SIZE hot2_off=ADDR ratio=R (two: a second hot range, disjoint
 *   from the first; each page of the first is touched R times as often as
 *   each page of the second, 1..1000, default 4)
 *   rate=N (0..10000000: about N accesses a second, in 16 bursts woken by
 *   the RTC's periodic interrupt, the CPU halted in between; rate=0 idles.
 *   Without it the guest touches pages as fast as it can, which keeps a
 *   host CPU busy per guest: bench/scale.sh runs 32 guests with it.)
 * Exact access distributions (bench/hot-share computes ground truth from
 * them): zipf gives pages [0, k) of N the share (k/N)^(1/K); two gives each
 * page of the first range R/(R*n1 + n2) and of the second 1/(R*n1 + n2).
 * write=0 makes every access a load (invisible to soft-dirty).
 * Output: one line per second on the debug console (port 0xe9), after a
 * line per NVDIMM range the firmware's ACPI NFIT describes.
 * Exit (isa-debug-exit at 0xf4; QEMU exits with 2*v+1):
 *   QEMU status 1: memory intact, 3: corruption found, 5: bad parameters,
 *   7: a CPU exception (a bug here; only rate=N takes interrupts).
 */
#include <stdint.h>
#include <stddef.h>

#define PAGE 4096u
#define WORDS (PAGE / 4u)
#define MAX_ADDR 0xC0000000u		/* 32-bit flat mode, below the PCI hole */
#define MAX_PAGES (MAX_ADDR / PAGE)
#define UNLIMITED 0xffffffffu
#define MAX_RATE 10000000u
#define BURSTS 16u			/* RTC periodic interrupts a second */
#define STOP_WORD 0x504f5453u		/* "STOP" in memory (little-endian) */

enum { EXIT_INTACT = 0, EXIT_CORRUPT = 1, EXIT_USAGE = 2 };
enum pattern { PAT_UNIFORM, PAT_ZIPF, PAT_SHIFT, PAT_TWO };

struct mb_info {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline;
	uint32_t mods_count, mods_addr, syms[4], mmap_length, mmap_addr;
};
struct mb_mmap {
	uint32_t size;
	uint64_t addr, len;
	uint32_t type;
} __attribute__((packed));

extern char _end[];
static uint32_t gen[MAX_PAGES];		/* writes done per page (word 0) */

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static void puts_(const char *s)
{
	while (*s)
		outb(0xe9, (uint8_t)*s++);
}

static void putu(uint64_t v)
{
	char buf[24];
	int i = 0;

	do {
		buf[i++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (i)
		outb(0xe9, (uint8_t)buf[--i]);
}

static void putx(uint32_t v)
{
	puts_("0x");
	for (int s = 28; s >= 0; s -= 4)
		outb(0xe9, (uint8_t)"0123456789abcdef"[(v >> s) & 15]);
}

static void __attribute__((noreturn)) finish(uint8_t code)
{
	outb(0xf4, code);		/* isa-debug-exit */
	for (;;)
		__asm__ volatile("cli; hlt");
}

static void __attribute__((noreturn)) usage_error(const char *what, const char *val)
{
	puts_("vmtier-guest: error: ");
	puts_(what);
	if (val) {
		puts_(" '");
		while (*val && *val != ' ')
			outb(0xe9, (uint8_t)*val++);
		puts_("'");
	}
	puts_("\n");
	finish(EXIT_USAGE);
}

/* Pattern word at a physical address: a mixing hash of the address. */
static inline uint32_t pat(uint32_t a)
{
	a ^= a >> 16;
	a *= 0x85ebca6bu;
	a ^= a >> 13;
	a *= 0xc2b2ae35u;
	a ^= a >> 16;
	return a;
}

static uint32_t rng_state = 2463534242u;
static inline uint32_t rnd(void)
{
	uint32_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return rng_state = x;
}

/* ---- parameters ---- */
struct params {
	uint32_t mem, base, hot, hot_off, shift, write_pct, time, seed;
	uint32_t skew, hot2, hot2_off, ratio;
	uint32_t stop;		/* the mailbox's address; 0: none */
	uint32_t rate;		/* accesses a second; UNLIMITED: as fast as it can */
	enum pattern pattern;
};

static int keyeq(const char *s, const char *key, const char **val)
{
	while (*key && *s == *key)
		s++, key++;
	if (*key || *s != '=')
		return 0;
	*val = s + 1;
	return 1;
}

static int streq_tok(const char *s, const char *w)
{
	while (*w && *s == *w)
		s++, w++;
	return !*w && (!*s || *s == ' ');
}

static void __attribute__((noreturn)) range_error(const char *what, uint32_t lo, uint64_t hi)
{
	puts_("vmtier-guest: error: ");
	puts_(what);
	puts_(" ");
	putx(lo);
	puts_("-");
	putx((uint32_t)hi);
	puts_("\n");
	finish(EXIT_USAGE);
}

static uint32_t parse_size(const char *key, const char *s)
{
	uint64_t v = 0;
	const char *p = s;
	int base = 10, digits = 0;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		base = 16, p += 2;
	for (;; p++, digits++) {
		int d;
		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else if (base == 16 && *p >= 'A' && *p <= 'F')
			d = *p - 'A' + 10;
		else
			break;
		v = v * (uint64_t)base + (uint64_t)d;
		if (v > 0xffffffffull)
			usage_error(key, s);
	}
	if (!digits)
		usage_error(key, s);
	switch (*p) {
	case 'K': case 'k': v <<= 10; p++; break;
	case 'M': case 'm': v <<= 20; p++; break;
	case 'G': case 'g': v <<= 30; p++; break;
	default: break;
	}
	if ((*p && *p != ' ') || v > 0xffffffffull)
		usage_error(key, s);
	return (uint32_t)v;
}

static void parse_params(const char *cmd, struct params *p)
{
	const char *v;

	while (cmd && *cmd) {
		while (*cmd == ' ')
			cmd++;
		if (!*cmd)
			break;
		if (keyeq(cmd, "mem", &v))
			p->mem = parse_size("mem", v);
		else if (keyeq(cmd, "base", &v))
			p->base = parse_size("base", v);
		else if (keyeq(cmd, "hot", &v))
			p->hot = parse_size("hot", v);
		else if (keyeq(cmd, "hot_off", &v))
			p->hot_off = parse_size("hot_off", v);
		else if (keyeq(cmd, "shift", &v))
			p->shift = parse_size("shift", v);
		else if (keyeq(cmd, "write", &v))
			p->write_pct = parse_size("write", v);
		else if (keyeq(cmd, "time", &v))
			p->time = parse_size("time", v);
		else if (keyeq(cmd, "stop", &v))
			p->stop = parse_size("stop", v);
		else if (keyeq(cmd, "seed", &v))
			p->seed = parse_size("seed", v);
		else if (keyeq(cmd, "skew", &v))
			p->skew = parse_size("skew", v);
		else if (keyeq(cmd, "hot2", &v))
			p->hot2 = parse_size("hot2", v);
		else if (keyeq(cmd, "hot2_off", &v))
			p->hot2_off = parse_size("hot2_off", v);
		else if (keyeq(cmd, "ratio", &v))
			p->ratio = parse_size("ratio", v);
		else if (keyeq(cmd, "rate", &v)) {
			p->rate = parse_size("rate", v);
			if (p->rate > MAX_RATE)
				usage_error("rate must be 0..10000000:", v);
		}
		else if (keyeq(cmd, "pattern", &v)) {
			if (streq_tok(v, "uniform"))
				p->pattern = PAT_UNIFORM;
			else if (streq_tok(v, "zipf"))
				p->pattern = PAT_ZIPF;
			else if (streq_tok(v, "shift"))
				p->pattern = PAT_SHIFT;
			else if (streq_tok(v, "two"))
				p->pattern = PAT_TWO;
			else
				usage_error("unknown pattern", v);
		} else {
			/* QEMU passes the kernel's file name first: skip words
			 * without '=' only if they look like a path. */
			const char *s = cmd;
			int has_eq = 0;
			while (*s && *s != ' ')
				has_eq |= *s++ == '=';
			if (has_eq)
				usage_error("unknown parameter", cmd);
		}
		while (*cmd && *cmd != ' ')
			cmd++;
	}
}

/* The working region must be plain RAM in the firmware's map, above us. */
static void check_region(const struct mb_info *mbi, const struct params *p)
{
	uint64_t lo = p->base, hi = (uint64_t)p->base + p->mem;

	if (p->mem == 0 || p->mem % PAGE || p->base % PAGE)
		range_error("region must be non-empty and 4K-aligned:", p->base, hi);
	if (hi > MAX_ADDR)
		range_error("region ends above 3G (32-bit guest):", p->base, hi);
	if (lo < (uint32_t)(uintptr_t)_end)
		range_error("region overlaps the guest program; raise base:", p->base, hi);
	if (p->hot == 0 || p->hot % PAGE || p->hot_off % PAGE)
		range_error("hot range must be non-empty and 4K-aligned:", p->hot_off, (uint64_t)p->hot_off + p->hot);
	if (p->hot_off < lo || (uint64_t)p->hot_off + p->hot > hi)
		range_error("hot range lies outside the region:", p->hot_off, (uint64_t)p->hot_off + p->hot);
	if (p->pattern == PAT_SHIFT && p->shift == 0)
		usage_error("shift must be > 0", NULL);
	if (p->write_pct > 100)
		usage_error("write must be 0..100", NULL);
	if (p->stop && (p->stop % PAGE || p->stop < (uint32_t)(uintptr_t)_end || p->stop + PAGE > lo))
		range_error("stop must be 4K-aligned, above the program and below base:", p->stop,
			    (uint64_t)p->stop + PAGE);
	if (p->skew < 1 || p->skew > 8)
		usage_error("skew must be 1..8", NULL);
	if (p->pattern == PAT_TWO) {
		uint64_t lo2 = p->hot2_off, hi2 = (uint64_t)p->hot2_off + p->hot2;

		if (p->hot2 == 0 || p->hot2 % PAGE || p->hot2_off % PAGE)
			range_error("hot2 range must be non-empty and 4K-aligned:", p->hot2_off, hi2);
		if (lo2 < lo || hi2 > hi)
			range_error("hot2 range lies outside the region:", p->hot2_off, hi2);
		if (lo2 < (uint64_t)p->hot_off + p->hot && hi2 > p->hot_off)
			range_error("hot2 range overlaps the hot range:", p->hot2_off, hi2);
		if (p->ratio < 1 || p->ratio > 1000)
			usage_error("ratio must be 1..1000", NULL);
	}
	if (!(mbi->flags & (1u << 6)))
		usage_error("no memory map from the boot loader", NULL);
	for (uint32_t off = 0; off < mbi->mmap_length;) {
		const struct mb_mmap *e = (const void *)(uintptr_t)(mbi->mmap_addr + off);
		if (e->type == 1 && e->addr <= lo && e->addr + e->len >= hi)
			return;
		off += e->size + 4;
	}
	range_error("region is not inside one RAM range of the memory map:", p->base, hi);
}

/* ---- NVDIMMs: the ACPI NFIT's system-physical-address ranges ---- */

static int sig_is(uint32_t addr, const char *sig, int n)
{
	const volatile char *p = (const volatile char *)(uintptr_t)addr;

	for (int i = 0; i < n; i++)
		if (p[i] != sig[i])
			return 0;
	return 1;
}

static inline uint32_t rd32(uint32_t a)
{
	return *(const volatile uint32_t *)(uintptr_t)a;
}

/* One line per NFIT SPA range: the NVDIMMs the firmware gave this guest. */
static void report_nvdimms(void)
{
	uint32_t rsdp = 0, rsdt, len;

	for (uint32_t a = 0xE0000; a < 0x100000; a += 16)
		if (sig_is(a, "RSD PTR ", 8)) {
			rsdp = a;
			break;
		}
	if (!rsdp)
		return;
	rsdt = rd32(rsdp + 16);
	len = rd32(rsdt + 4);
	for (uint32_t off = 36; off + 4 <= len; off += 4) {
		uint32_t t = rd32(rsdt + off), tlen;
		if (!sig_is(t, "NFIT", 4))
			continue;
		tlen = rd32(t + 4);
		for (uint32_t s = t + 40; s + 4 <= t + tlen;) {
			uint16_t type = *(const volatile uint16_t *)(uintptr_t)s;
			uint16_t slen = *(const volatile uint16_t *)(uintptr_t)(s + 2);
			if (slen < 4)
				break;
			if (type == 0 && slen >= 56) {	/* SPA range */
				uint64_t size = (uint64_t)rd32(s + 40) | (uint64_t)rd32(s + 44) << 32;
				puts_("vmtier-guest: nvdimm node=");
				putu(rd32(s + 12));
				puts_(" base=0x");
				for (int sh = 28; sh >= 0; sh -= 4)
					outb(0xe9, (uint8_t)"0123456789abcdef"[(rd32(s + 36) >> sh) & 15]);
				for (int sh = 28; sh >= 0; sh -= 4)
					outb(0xe9, (uint8_t)"0123456789abcdef"[(rd32(s + 32) >> sh) & 15]);
				puts_(" size_mib=");
				putu(size >> 20);
				puts_("\n");
			}
			s += slen;
		}
	}
}

/* ---- time from the CMOS clock (no calibration needed) ---- */
static uint8_t rtc_last;
static int rtc_tick(void)
{
	uint8_t s;

	outb(0x70, 0x0a);
	if (inb(0x71) & 0x80)		/* update in progress */
		return 0;
	outb(0x70, 0x00);
	s = inb(0x71);
	if (s == rtc_last)
		return 0;
	rtc_last = s;
	return 1;
}

/* ---- memory ---- */
static uint32_t errors, first_error_addr;

static inline void note_error(uint32_t a)
{
	if (!errors++)
		first_error_addr = a;
}

static void fill(const struct params *p)
{
	for (uint32_t a = p->base; a - p->base < p->mem; a += 4)
		*(volatile uint32_t *)(uintptr_t)a = pat(a);
}

static uint32_t verify_all(const struct params *p)
{
	uint32_t bad = 0;

	for (uint32_t a = p->base; a - p->base < p->mem; a += 4) {
		uint32_t want = pat(a);
		if ((a & (PAGE - 1)) == 0)
			want += gen[(a - p->base) / PAGE];
		if (*(volatile uint32_t *)(uintptr_t)a != want) {
			if (!bad++ && !errors)
				first_error_addr = a;
		}
	}
	return bad;
}

/* One access: read a random word of the page and check it; a write also
 * bumps the page's word 0, whose expected value the shadow counter holds,
 * so a lost or misplaced write is detected, not only a corrupted word. */
static inline void touch(uint32_t page_addr, int write, uint32_t base)
{
	uint32_t a = page_addr + 4 * (1 + rnd() % (WORDS - 1));

	if (*(volatile uint32_t *)(uintptr_t)a != pat(a))
		note_error(a);
	if (write) {
		uint32_t i = (page_addr - base) / PAGE;
		volatile uint32_t *w0 = (volatile uint32_t *)(uintptr_t)page_addr;
		if (*w0 != pat(page_addr) + gen[i])
			note_error(page_addr);
		gen[i]++;
		*w0 = pat(page_addr) + gen[i];
	}
}

/* ---- rate=N: halt between bursts, woken by the RTC ---- */
extern char irq_entry[], fault_entry[];

struct gate {
	uint16_t off_lo, sel;
	uint8_t zero, type;
	uint16_t off_hi;
} __attribute__((packed));
struct table_ptr {
	uint16_t limit;
	uint32_t base;
} __attribute__((packed));

/* Flat code (0x08) and data (0x10) segments of our own: multiboot leaves
 * GDTR undefined, and an interrupt loads CS through it. */
static const uint64_t gdt[3] = { 0, 0x00CF9A000000FFFFull, 0x00CF92000000FFFFull };
static struct gate idt[48];

static void set_gate(int v, char *entry)
{
	uint32_t a = (uint32_t)(uintptr_t)entry;

	idt[v] = (struct gate){ (uint16_t)a, 0x08, 0, 0x8E, (uint16_t)(a >> 16) };
}

static void rtc_write(uint8_t reg, uint8_t v)
{
	outb(0x70, reg);
	outb(0x71, v);
}

static uint8_t rtc_read(uint8_t reg)
{
	outb(0x70, reg);
	return inb(0x71);
}

/* Exceptions 0-31 to fault_entry, the PICs' IRQs at 32-47 to irq_entry,
 * only IRQ 8 (the RTC, through the cascade IRQ 2) unmasked, and the RTC's
 * periodic interrupt at BURSTS Hz.  Interrupts stay off but in "sti; hlt". */
static void start_interrupts(void)
{
	struct table_ptr g = { sizeof(gdt) - 1, (uint32_t)(uintptr_t)gdt };
	struct table_ptr i = { sizeof(idt) - 1, (uint32_t)(uintptr_t)idt };

	__asm__ volatile("lgdt %0\n\t"
			 "ljmp $0x08, $1f\n"
			 "1:\tmovw $0x10, %%ax\n\t"
			 "movw %%ax, %%ds\n\tmovw %%ax, %%es\n\tmovw %%ax, %%ss\n\t"
			 "movw %%ax, %%fs\n\tmovw %%ax, %%gs"
			 : : "m"(g) : "eax", "memory");
	for (int v = 0; v < 48; v++)
		set_gate(v, v < 32 ? fault_entry : irq_entry);
	__asm__ volatile("lidt %0" : : "m"(i) : "memory");
	/* ICW1-4: cascade, vectors 32 and 40, slave on IRQ 2, 8086 mode */
	outb(0x20, 0x11); outb(0xa0, 0x11);
	outb(0x21, 0x20); outb(0xa1, 0x28);
	outb(0x21, 0x04); outb(0xa1, 0x02);
	outb(0x21, 0x01); outb(0xa1, 0x01);
	outb(0x21, 0xfb); outb(0xa1, 0xfe);
	/* 32768 >> (rate - 1) Hz: rate 12 is 16 Hz */
	rtc_write(0x0a, (uint8_t)((rtc_read(0x0a) & 0xf0) | 12));
	rtc_write(0x0b, (uint8_t)(rtc_read(0x0b) | 0x40));
	rtc_read(0x0c);
}

static void report_hot(uint32_t hot_start, uint32_t hot)
{
	puts_(" hot=");
	putx(hot_start);
	puts_("-");
	putx(hot_start + hot);
}

void guest_main(uint32_t magic, const struct mb_info *mbi)
{
	struct params p = {
		.mem = 64u << 20, .base = 16u << 20, .hot = 0, .hot_off = 0,
		.shift = 10, .write_pct = 20, .time = 30, .seed = 1,
		.pattern = PAT_UNIFORM, .skew = 3, .ratio = 4, .rate = UNLIMITED,
	};
	static const char *const pattern_names[] = { "uniform", "zipf", "shift", "two" };
	uint64_t accesses = 0;
	uint32_t hot_start, hot_pages, hot2_pages = 0, first_share = 0, seconds = 0, since_shift = 0;
	int hot_given = 0, off_given = 0;

	if (magic != 0x2BADB002)
		usage_error("not started by a multiboot loader", NULL);
	if (mbi->flags & (1u << 2)) {
		const char *c = (const char *)(uintptr_t)mbi->cmdline;
		hot_given = off_given = 0;
		parse_params(c, &p);
		/* defaults that depend on other parameters */
		for (const char *s = c; *s; s++) {
			const char *v;
			if (keyeq(s, "hot", &v))
				hot_given = 1;
			if (keyeq(s, "hot_off", &v))
				off_given = 1;
		}
	}
	if (!hot_given)
		p.hot = (p.mem / 4) & ~(PAGE - 1);
	if (!off_given)
		p.hot_off = p.base;
	check_region(mbi, &p);
	rng_state = p.seed ? p.seed * 2654435761u : 2463534242u;
	if (!rng_state)
		rng_state = 1;

	puts_("vmtier-guest: start base=");
	putx(p.base);
	puts_(" mem=");
	putu(p.mem);
	report_hot(p.hot_off, p.hot);
	puts_(" pattern=");
	puts_(pattern_names[p.pattern]);
	if (p.pattern == PAT_ZIPF) {
		puts_(" skew=");
		putu(p.skew);
	}
	if (p.pattern == PAT_TWO) {
		puts_(" hot2=");
		putx(p.hot2_off);
		puts_("-");
		putx(p.hot2_off + p.hot2);
		puts_(" ratio=");
		putu(p.ratio);
	}
	puts_(" write=");
	putu(p.write_pct);
	puts_("% time=");
	putu(p.time);
	puts_("s");
	if (p.stop) {
		puts_(" stop=");
		putx(p.stop);
	}
	if (p.rate != UNLIMITED) {
		puts_(" rate=");
		putu(p.rate);
	}
	puts_("\n");

	report_nvdimms();
	fill(&p);
	puts_("vmtier-guest: filled pages=");
	putu(p.mem / PAGE);
	puts_("\n");

	hot_start = p.hot_off;
	hot_pages = p.hot / PAGE;
	if (p.pattern == PAT_TWO) {
		/* P(first range) = R*n1 / (R*n1 + n2), as a 32-bit fraction */
		uint64_t w1 = (uint64_t)p.ratio * hot_pages;

		hot2_pages = p.hot2 / PAGE;
		first_share = (uint32_t)((w1 << 32) / (w1 + hot2_pages));
	}
	if (p.stop)
		*(volatile uint32_t *)(uintptr_t)p.stop = 0;
	rtc_tick();
	if (p.rate != UNLIMITED)
		start_interrupts();
	for (uint32_t burst = 0;;) {
		uint32_t n;

		if (p.rate == UNLIMITED) {
			n = 1024;
		} else {
			/* the bursts of a second add up to rate exactly */
			n = (uint32_t)(((uint64_t)p.rate * (burst + 1)) / BURSTS -
				       ((uint64_t)p.rate * burst) / BURSTS);
			burst = (burst + 1) % BURSTS;
		}
		for (uint32_t i = 0; i < n; i++) {
			uint32_t r = rnd(), page;

			if (p.pattern == PAT_ZIPF) {
				/* u^K skew (K=3: half the accesses hit the first 1/8) */
				uint32_t t = r;
				for (uint32_t k = 1; k < p.skew; k++)
					t = (uint32_t)(((uint64_t)t * r) >> 32);
				page = hot_start + (uint32_t)(((uint64_t)t * hot_pages) >> 32) * PAGE;
			} else if (p.pattern == PAT_TWO) {
				uint32_t u = rnd();
				if (r < first_share)
					page = hot_start + (uint32_t)(((uint64_t)u * hot_pages) >> 32) * PAGE;
				else
					page = p.hot2_off + (uint32_t)(((uint64_t)u * hot2_pages) >> 32) * PAGE;
			} else {
				page = hot_start + (uint32_t)(((uint64_t)r * hot_pages) >> 32) * PAGE;
			}
			touch(page, rnd() % 100 < p.write_pct, p.base);
		}
		accesses += n;
		if (!rtc_tick()) {
			if (p.rate != UNLIMITED)	/* sti's shadow: no wake-up is lost */
				__asm__ volatile("sti; hlt; cli" ::: "memory");
			continue;
		}
		seconds++;
		if (p.pattern == PAT_SHIFT && ++since_shift >= p.shift) {
			since_shift = 0;
			hot_start += p.hot;
			if ((uint64_t)hot_start + p.hot > (uint64_t)p.base + p.mem)
				hot_start = p.base;
		}
		puts_("t=");
		putu(seconds);
		puts_(" accesses=");
		putu(accesses);
		report_hot(hot_start, p.hot);
		puts_(" errors=");
		putu(errors);
		puts_("\n");
		if (p.time && seconds >= p.time)
			break;
		if (p.stop && *(volatile uint32_t *)(uintptr_t)p.stop == STOP_WORD) {
			puts_("vmtier-guest: stopped by the host\n");
			break;
		}
	}

	uint32_t bad = verify_all(&p);
	puts_("vmtier-guest: done accesses=");
	putu(accesses);
	puts_(" errors=");
	putu(errors);
	puts_(" verify_errors=");
	putu(bad);
	if (errors || bad) {
		puts_(" first_bad=");
		putx(first_error_addr);
	}
	puts_(errors || bad ? " result=corrupt\n" : " result=intact\n");
	finish(errors || bad ? EXIT_CORRUPT : EXIT_INTACT);
}
