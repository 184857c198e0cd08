// SPDX-License-Identifier: GPL-2.0
/* goperf's sampling programs, one on a perf event (goperf_sample) and one on the scheduler tick
 * (goperf_tick): for each sample of a target process, the user registers, the live part of the user stack
 * (sp up to the goroutine's stack.hi) and the goroutine (goid, pprof labels pointer).
 * Identical samples are counted in a hash map; only the first one of each crosses to user space with its
 * data. Go runtime offsets come from rodata (set by the loader per Go version): no layout is built in. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "go_stack.h"

char LICENSE[] SEC("license") = "GPL";

const volatile struct goperf_config cfg = {};

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, GOPERF_MAX_PIDS);
  __type(key, __u32);
  __type(value, __u8);
} pids SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, GOPERF_AGG_ENTRIES);
  __type(key, struct goperf_agg_key);
  __type(value, struct goperf_agg_value);
} counts SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, GOPERF_RINGBUF_BYTES);
} samples SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_STACK_TRACE);
  __uint(max_entries, GOPERF_KSTACK_ENTRIES);
  __uint(key_size, sizeof(__u32));
  __uint(value_size, GOPERF_KSTACK_DEPTH * sizeof(__u64));
} kstacks SEC(".maps");

/* The record is too large for the 512-byte BPF stack: one per CPU and program (take_sample). */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 2);
  __type(key, __u32);
  __type(value, struct goperf_sample);
} scratch SEC(".maps");

/* Per CPU: target ticks still to let pass before the next tick sample (cfg.tick_every). */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u32);
} ticks_to_skip SEC(".maps");

/* Counters per CPU: [0] samples of targets, [1] ring buffer full (lost), [2] aggregation map full. */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, __u64);
} stats SEC(".maps");

static __always_inline void bump(__u32 idx) {
  __u64 *v = bpf_map_lookup_elem(&stats, &idx);
  if (v) *v += 1;
}

static __always_inline __u64 mix(__u64 h, __u64 w) {
  h ^= w;
  h *= 0x9e3779b97f4a7c15ULL;
  return h ^ (h >> 29);
}

/* The stack words are hashed in four independent lanes, 16 words per bpf_loop step: one lane's
 * multiply-xor chain is a serial dependency (a multiply's latency per word), and each bpf_loop step is
 * an indirect call. One word per step in one lane cost 0.7 us per sample on a 2 KiB stack; this, 0.2.
 * With text_len set (the code-address key, see take_sample) a word counts only if it is an address in
 * the executable's text or in the high half of user space (shared libraries, the vDSO, plugins); each
 * counted word is mixed with its place, so a skipped one cannot shift the others. */
#define HASH_WORDS_PER_STEP 16
#define GOPERF_HIGH_USER 0x7f0000000000ULL

struct hash_ctx {
  struct goperf_sample *s;
  __u64 lane[4];
  __u64 text_lo, text_len;  /* text_len 0: every word */
  __u32 words;
};

static __always_inline __u64 hash_word(struct hash_ctx *c, __u64 w, __u64 at, __u64 lane, __u64 k) {
  if (!c->text_len || w - c->text_lo < c->text_len || (w >= GOPERF_HIGH_USER && w < (1ULL << 47)))
    lane = (lane ^ w ^ (at << 48)) * k;
  return lane;
}

static long hash_step(__u32 i, void *data) {
  struct hash_ctx *c = data;
  __u32 first = i * HASH_WORDS_PER_STEP;
  if (first >= c->words) return 1;
  __u32 left = c->words - first;
  __u64 *w = (__u64 *)&c->s->stack[(first * 8) & (GOPERF_MAX_STACK_BYTES - HASH_WORDS_PER_STEP * 8)];
  __u64 a = c->lane[0], b = c->lane[1], d = c->lane[2], e = c->lane[3];
#pragma unroll
  for (__u32 k = 0; k < HASH_WORDS_PER_STEP; k += 4) {
    if (k < left) a = hash_word(c, w[k], first + k, a, 0x9e3779b97f4a7c15ULL);
    if (k + 1 < left) b = hash_word(c, w[k + 1], first + k + 1, b, 0xc2b2ae3d27d4eb4fULL);
    if (k + 2 < left) d = hash_word(c, w[k + 2], first + k + 2, d, 0x165667b19e3779f9ULL);
    if (k + 3 < left) e = hash_word(c, w[k + 3], first + k + 3, e, 0x27d4eb2f165667c5ULL);
  }
  c->lane[0] = a;
  c->lane[1] = b;
  c->lane[2] = d;
  c->lane[3] = e;
  return 0;
}

/* A copy length the verifier can bound: a multiple of 8 below GOPERF_MAX_STACK_BYTES. The empty asm
 * keeps the compiler from dropping the mask it thinks redundant after the clamp. */
static __always_inline __u32 bounded_len(__u32 n) {
  if (n > GOPERF_MAX_STACK_BYTES - 8) n = GOPERF_MAX_STACK_BYTES - 8;
  asm volatile("" : "+r"(n));
  return n & (GOPERF_MAX_STACK_BYTES - 8);
}

/* The fields of a g the program uses, read in one probe read of g's first cfg.g_span bytes (a probe
 * read's fixed cost is most of what it costs: three reads per sample where there were six). The read
 * goes through the record's stack buffer, which the stack copy overwrites afterwards. */
struct g_fields {
  __u64 lo, hi;  /* g.stack */
  __u64 m, goid, labels;
  __u64 sched_sp, sched_pc, sched_bp;
};

static __always_inline __u64 g_word(struct goperf_sample *s, __u32 offset) {
  return offset ? *(__u64 *)&s->stack[offset & (GOPERF_G_SPAN_MAX - 8)] : 0;
}

static __always_inline bool read_g(struct goperf_sample *s, __u64 g, struct g_fields *f) {
  __u32 n = cfg.g_span;
  if (!g || !cfg.g_stack_hi_offset || n < 16 || n > GOPERF_G_SPAN_MAX) return false;
  if (bpf_probe_read_user(s->stack, n, (void *)g)) return false;
  f->lo = *(__u64 *)&s->stack[(cfg.g_stack_hi_offset - 8) & (GOPERF_G_SPAN_MAX - 8)];  /* at 0: no g_word */
  f->hi = g_word(s, cfg.g_stack_hi_offset);
  f->m = g_word(s, cfg.g_m_offset);
  f->goid = g_word(s, cfg.g_goid_offset);
  f->labels = g_word(s, cfg.g_labels_offset);
  f->sched_sp = g_word(s, cfg.g_sched_sp_offset);
  f->sched_pc = g_word(s, cfg.g_sched_pc_offset);
  f->sched_bp = g_word(s, cfg.g_sched_bp_offset);
  return true;
}

/* m.g0 and m.curg in one read of m's first cfg.m_span bytes (through the record's buffer, like read_g). */
static __always_inline bool read_m(struct goperf_sample *s, __u64 m, __u64 *g0, __u64 *curg) {
  __u32 n = cfg.m_span;
  if (!m || n < 8 || n > GOPERF_G_SPAN_MAX) return false;
  if (bpf_probe_read_user(s->stack, n, (void *)m)) return false;
  *g0 = *(__u64 *)&s->stack[cfg.m_g0_offset & (GOPERF_G_SPAN_MAX - 8)];  /* at 0: no g_word */
  *curg = g_word(s, cfg.m_curg_offset);
  return true;
}

/* A second stack in one record (stack2_*): `want` bytes of it from addr, after the record's first n1
 * bytes (n1 below `split`, a power of two, so that the verifier can bound both parts); *len becomes the
 * record's total. false: nothing appended. */
static __always_inline bool append_second_stack(struct goperf_sample *s, __u32 n1, __u32 split, __u64 addr,
                                                __u64 want, __u32 *len) {
  if (want > cfg.stack_bytes) want = cfg.stack_bytes;
  if (want > GOPERF_MAX_STACK_BYTES - split) want = GOPERF_MAX_STACK_BYTES - split;
  __u32 n2 = (__u32)want;
  asm volatile("" : "+r"(n2));
  n2 &= (GOPERF_MAX_STACK_BYTES - split) - 8;
  if (!n2 || bpf_probe_read_user(&s->stack[n1 & (split - 8)], n2, (void *)addr)) return false;
  s->stack2_addr = addr;
  s->stack2_len = n2;
  *len = n1 + n2;
  return true;
}

/* g0 serving a goroutine (systemstack, morestack, cgo: the runtime's own profiler jumps to curg there):
 * after g0's part (cut to GOPERF_SWITCH_G0_BYTES), the goroutine's stack from curg.sched.sp, taken now.
 * Read later, the goroutine would often have moved on (a GC-heavy workload: 40% of samples cut at
 * runtime.systemstack with a live read). */
static __always_inline void copy_switched_goroutine(struct goperf_sample *s, __u32 *len, const struct g_fields *c) {
  __u32 n1 = *len;
  if (n1 > GOPERF_SWITCH_G0_BYTES - 8) n1 = GOPERF_SWITCH_G0_BYTES - 8;
  if (!append_second_stack(s, n1 & (GOPERF_SWITCH_G0_BYTES - 8), GOPERF_SWITCH_G0_BYTES, c->sched_sp,
                           c->hi - c->sched_sp, len))
    return;
  s->switch_pc = c->sched_pc;
  s->switch_bp = c->sched_bp;
  s->flags |= GOPERF_F_SWITCH;
}

static __always_inline bool on_stack(const struct g_fields *f, __u64 sp) { return f->lo <= sp && sp < f->hi; }

/* A vDSO call (runtime.nanotime1, time.now, runtime.vgetrandom1) moved sp to g0's stack, g unchanged:
 * what the walk needs is g0's stack from sp up to where the call began (g0.sched.sp: the vDSO's frames,
 * a few hundred bytes), then the goroutine's from the caller's frame (m.vdsoSP, less the vDSO caller's
 * return address and saved BP) up to its stack.hi. Both are taken now, into one record: g0's part
 * first, the goroutine's after it (stack2_*). The goroutine's frames, read after the sample, could have
 * changed. false: not that shape; the caller copies from sp as for any system-stack sample. */
static __always_inline bool copy_vdso_stacks(struct goperf_sample *s, __u64 sp, __u64 m, __u64 g0,
                                             const struct g_fields *g, __u32 *len) {
  __u64 vdso_sp = 0, g0_top = 0;
  if (!cfg.m_vdso_sp_offset || !cfg.g_sched_sp_offset) return false;
  if (bpf_probe_read_user(&vdso_sp, sizeof(vdso_sp), (void *)(m + cfg.m_vdso_sp_offset)) ||
      bpf_probe_read_user(&g0_top, sizeof(g0_top), (void *)(g0 + cfg.g_sched_sp_offset)))
    return false;
#if defined(__TARGET_ARCH_arm64)
  /* arm64: the caller's frame lies below m.vdsoSP (walltime's $24 frame with its saved LR, the saved FP
   * under it: sys_linux_arm64.s), which the walk reads through the frame pointer. */
  __u64 caller = vdso_sp - 64;
#else
  __u64 caller = vdso_sp - 16;
#endif
  if (g0_top < sp || g0_top - sp > GOPERF_VDSO_G0_BYTES - 16 || caller < g->lo || vdso_sp >= g->hi)
    return false;
  /* g0's part: the words up to g0_top and two more (sp may be g0_top itself, in the caller before its
   * CALL), below GOPERF_VDSO_G0_BYTES for the verifier. */
  __u32 n1 = (__u32)(g0_top - sp + 16) & (GOPERF_VDSO_G0_BYTES - 8);
  if (!n1 || bpf_probe_read_user(s->stack, n1, (void *)sp)) return false;
  return append_second_stack(s, n1, GOPERF_VDSO_G0_BYTES, caller, g->hi - caller, len);
}

/* One sample of the current thread (a target's), whichever program took it: the user registers (the
 * interrupted user state, or the state at kernel entry when the kernel was interrupted), the live stack,
 * the goroutine, and the kernel stack when kernel_stack is set. weight is the CPU time (or event count)
 * the sample stands for; flags says what the caller knows of where the thread was. scratch_slot: each
 * program has its own record buffer, so that one running inside the other (a hardware event's NMI
 * during the tick program) cannot corrupt it. */
static __always_inline int take_sample(void *ctx, __u64 id, __u32 scratch_slot, __u64 weight, __u32 flags,
                                       bool kernel_stack) {
  __u32 tgid = id >> 32;
  bump(0);

  struct goperf_sample *s = bpf_map_lookup_elem(&scratch, &scratch_slot);
  if (!s) return 0;

  struct task_struct *task = bpf_get_current_task_btf();
  struct pt_regs *uregs = (struct pt_regs *)bpf_task_pt_regs(task);
  s->tgid = tgid;
  s->tid = (__u32)id;
  s->time_ns = bpf_ktime_get_ns();
  s->period = weight;
  /* Direct loads: task and the pt_regs bpf_task_pt_regs returns are BTF pointers the verifier lets the
   * program read inline, where BPF_CORE_READ makes a probe-read helper call per field. */
#if defined(__TARGET_ARCH_arm64)
  /* arm64: g in R28, the frame pointer in R29, the return address of a frameless leaf (or of a function
   * before its prologue saved it) in the link register R30, the thread pointer (tpidr_el0) in
   * thread.uw.tp_value (arch/arm64/include/asm/processor.h); the record's amd64-named fields carry them. */
  s->pc = uregs->pc;
  s->sp = uregs->sp;
  s->fp = uregs->regs[29];
  s->r14 = uregs->regs[28];
  s->lr = uregs->regs[30];
  s->fs_base = task->thread.uw.tp_value;
#else
  s->pc = uregs->ip;
  s->sp = uregs->sp;
  s->fp = uregs->bp;
  s->r14 = uregs->r14;
  s->lr = 0;
  s->fs_base = task->thread.fsbase;
#endif
  s->flags = flags;
  s->kstack_id = -1;
  s->g = 0;
  s->goid = 0;
  s->labels = 0;
  s->stack2_len = 0;
  s->stack2_addr = 0;
  s->switch_pc = 0;
  s->switch_bp = 0;

  /* The current g: the TLS slot is right in every Go frame (assembly included, where r14 may be scratch);
   * r14 is the fallback for binaries whose TLS offset is unknown. Trusted only if sp is on its stack. */
  __u64 sp = s->sp, hi = 0, g = 0, tls_g = 0;
  bool on_system_stack = false;
  __u64 vdso_m = 0, vdso_g0 = 0;
  struct g_fields tls_f = {}, gf = {}, cf = {};
  bool serving = false;  /* g0 serving curg, whose saved state cf holds */
  bool have_tls = false;
  if (cfg.tls_g_offset && s->fs_base)
    bpf_probe_read_user(&tls_g, sizeof(tls_g), (void *)(s->fs_base + cfg.tls_g_offset));
  have_tls = read_g(s, tls_g, &tls_f);
  if (have_tls && on_stack(&tls_f, sp)) {
    g = tls_g;
    gf = tls_f;
  } else if (s->r14 != tls_g && read_g(s, s->r14, &gf) && on_stack(&gf, sp)) {
    g = s->r14;
  } else if (have_tls && tls_f.m) {
    /* systemstack, mcall and morestack set g to g0 a few instructions before sp: sp still on curg's
     * stack, the sample is curg's (1 in about 5,000 samples of prof -mode alloc, left without a goroutine). */
    __u64 m_g0 = 0, c = 0;
    if (read_m(s, tls_f.m, &m_g0, &c) && m_g0 == tls_g && c && c != tls_g && read_g(s, c, &gf) && on_stack(&gf, sp))
      g = c;
  }
  /* pprof charges a sample to m.curg (the user goroutine) even when g is g0 or gsignal. */
  if (g) {
    hi = gf.hi;
    s->g = g;
    s->flags |= GOPERF_F_G_VALID;
    s->goid = gf.goid;
    s->labels = gf.labels;
    __u64 c = 0, m_g0 = 0;
    bool have_m = read_m(s, gf.m, &m_g0, &c);
    if (have_m && c == 0 && m_g0 == g) s->flags |= GOPERF_F_NO_CURG;
    if (have_m && c && c != g) {
      on_system_stack = true;
      if (read_g(s, c, &cf)) {
        s->goid = cf.goid;
        s->labels = cf.labels;
        /* The runtime's condition (traceback.go): on g0, curg of the same m, its state saved there. */
        serving = m_g0 == g && cf.m == gf.m && cf.sched_pc && cf.lo <= cf.sched_sp && cf.sched_sp < cf.hi;
      }
    }
  } else {
    /* Without the TLS slot (arm64 without cgo keeps g in R28 only, which the vDSO's C code preserves
     * as a callee-saved register), the register's g, validated below by sp on its g0's stack. */
    if (!have_tls && s->r14) {
      tls_g = s->r14;
      have_tls = read_g(s, tls_g, &tls_f);
    }
  }
  if (!g && have_tls && tls_f.m) {
    /* A vDSO call (runtime.nanotime1, time.now) moves sp to g0's stack without switching g: sp is on
     * g.m.g0's stack while the TLS g is still the goroutine, whose sample it is. */
    __u64 g0 = 0;
    struct g_fields g0f = {};
    if (!bpf_probe_read_user(&g0, sizeof(g0), (void *)(tls_f.m + cfg.m_g0_offset)) && g0 && g0 != tls_g &&
        read_g(s, g0, &g0f) && on_stack(&g0f, sp)) {
      on_system_stack = true;
      s->goid = tls_f.goid;
      s->labels = tls_f.labels;
      vdso_m = tls_f.m;
      vdso_g0 = g0;
    }
  }

  /* Copy the live stack only: on a goroutine stack that is sp..stack.hi, often a few hundred bytes.
   * On g0 or gsignal (curg != g), stack.hi is not always the top of what callers left there (cgo's
   * asmcgocall frame, a thread's start frames): copy stack_bytes, falling back to sp..stack.hi. */
  __u32 n;
  long err;
  if (vdso_m && copy_vdso_stacks(s, sp, vdso_m, vdso_g0, &tls_f, &n)) goto copied;
  __u32 full = cfg.stack_bytes, live = full;
  if (hi && hi - sp < live) live = hi - sp;
  /* Serving curg, g0 was entered at g0.sched.sp (systemstack, morestack, mcall and asmcgocall all set
   * sp there): the frames of this visit lie below it, asmcgocall's saved pair just below it too. */
  if (serving && gf.sched_sp > sp && gf.sched_sp - sp + 16 < full) full = gf.sched_sp - sp + 16;
  n = bounded_len(on_system_stack ? full : live);
  err = n ? bpf_probe_read_user(s->stack, n, (void *)sp) : 0;
  if (err && on_system_stack && live < full) {
    /* The main thread's g0.stack.hi is rt0_go's sp, below argv and the environment: a little past it
     * is mapped, and holds what the cgo frames left at the top of g0's stack. */
    n = bounded_len(live + 1024 < full ? live + 1024 : full);
    err = n ? bpf_probe_read_user(s->stack, n, (void *)sp) : 0;
    if (err) {
      n = bounded_len(live);
      err = n ? bpf_probe_read_user(s->stack, n, (void *)sp) : 0;
    }
  }
  if (err) {
    /* Something above sp is unmapped (a thread stack's top page): keep the rest of sp's page. */
    n = bounded_len(4096 - (sp & 4095));
    s->flags |= GOPERF_F_STACK_SHORT;
    if (n && bpf_probe_read_user(s->stack, n, (void *)sp)) n = 0;
  }
  if (serving) copy_switched_goroutine(s, &n, &cf);
copied:
  s->stack_len = n;

  if (kernel_stack) s->kstack_id = bpf_get_stackid(ctx, &kstacks, 0);

  __u64 h = 0xcbf29ce484222325ULL;
  h = mix(h, s->pc);
  h = mix(h, sp);
  h = mix(h, s->fp);
  h = mix(h, s->lr);
  h = mix(h, s->g);
  h = mix(h, s->goid);
  h = mix(h, s->labels);
  h = mix(h, ((__u64)(__u32)s->kstack_id << 32) | s->flags);
  h = mix(h, n);
  h = mix(h, s->stack2_addr ^ ((__u64)s->stack2_len << 48));
  h = mix(h, s->switch_pc ^ (s->switch_bp << 7));
  /* The key. Identical keys must unwind alike, since only the first record of a key is unwound. A
   * sample on a goroutine's stack with its pc in the executable is unwound by Go's own rule (StackWalker:
   * pcsp tables, from pc up), which reads nothing from the copy but return addresses, each at a place the
   * previous pc decides: its key covers the words that can be return addresses (hash_word), with their
   * places, and leaves out the frames' data (counters, pointers, spilled arguments), which differ from
   * sample to sample and would make every sample a record of its own. Everything else (g0 and signal
   * stacks, cgo, the vDSO, C code) reads frame pointers and saved goroutine state from the copy: keyed
   * by every byte. */
  struct mm_struct *mm = task->mm;
  __u64 text_lo = 0, text_end = 0;
  /* ... and only when the copy reached stack.hi: frames above a cut copy are read live, by the first
   * record of a key only, and would be given to every sample of it. */
  if (mm && (s->flags & GOPERF_F_G_VALID) && !on_system_stack && !s->stack2_len && hi && sp + n >= hi) {
    text_lo = mm->start_code;
    text_end = mm->end_code;
  }
  struct hash_ctx hc = {.s = s, .lane = {h, h + 1, h + 2, h + 3}, .words = n / 8};
  if (text_lo < text_end && s->pc - text_lo < text_end - text_lo) {
    s->flags |= GOPERF_F_CODE_KEY;
    hc.text_lo = text_lo;
    hc.text_len = text_end - text_lo;
  }
  bpf_loop((n / 8 + HASH_WORDS_PER_STEP - 1) / HASH_WORDS_PER_STEP, hash_step, &hc, 0);
  h = mix(mix(mix(mix(h, hc.lane[0] ^ s->flags), hc.lane[1]), hc.lane[2]), hc.lane[3]);
  s->hash = h;

  struct goperf_agg_key key = {.hash = h, .tgid = tgid};
  struct goperf_agg_value *v = bpf_map_lookup_elem(&counts, &key);
  if (v) {
    __sync_fetch_and_add(&v->count, 1);
    __sync_fetch_and_add(&v->period, s->period);
    return 0;
  }
  struct goperf_agg_value init = {};
  if (bpf_map_update_elem(&counts, &key, &init, BPF_NOEXIST)) {
    /* Map full (or a racing insert): send this one on its own. */
    s->flags |= GOPERF_F_NOAGG;
    bump(2);
  }
  __u64 len = __builtin_offsetof(struct goperf_sample, stack) + n;
  if (len > sizeof(*s)) len = sizeof(*s);
  /* No wakeup per record: user space polls at least every 20 ms, and a wakeup (irq_work, then the
   * reader's thread woken) costs the sampled task more than the rest of this program. Only a ring over
   * a quarter full wakes the reader early. */
  __u64 wakeup = bpf_ringbuf_query(&samples, BPF_RB_AVAIL_DATA) > GOPERF_RINGBUF_BYTES / 4 ? BPF_RB_FORCE_WAKEUP
                                                                                         : BPF_RB_NO_WAKEUP;
  if (bpf_ringbuf_output(&samples, s, len, wakeup)) bump(1);
  return 0;
}

SEC("perf_event")
int goperf_sample(struct bpf_perf_event_data *ctx) {
  __u64 id = bpf_get_current_pid_tgid();
  __u32 tgid = id >> 32;
  if (!bpf_map_lookup_elem(&pids, &tgid)) return 0;
  /* The interrupted pc: kernel addresses have the top bit set on x86-64 and arm64. */
  bool in_kernel = (__s64)PT_REGS_IP(&ctx->regs) < 0;
  /* Mixed with tick samples, a cpu-clock sample stands for its share of the requested rate, not its period. */
  __u64 weight = cfg.clock_weight_ns ? cfg.clock_weight_ns : ctx->sample_period;
  return take_sample(ctx, id, 0, weight, in_kernel ? GOPERF_F_IN_KERNEL : 0, in_kernel && cfg.capture_kernel);
}

/* The scheduler tick (unwind/tick_source.h): every hrtimer expiry on every CPU comes here, so anything
 * but a target thread's tick returns at once. The tick interrupts the thread anyway: a sample taken here
 * costs it only take_sample's work, where a cpu-clock sample costs a timer interrupt of its own. */
SEC("tp_btf/hrtimer_expire_entry")
int BPF_PROG(goperf_tick, struct hrtimer *timer, ktime_t *now) {
  if ((__u64)timer->function != cfg.tick_handler) return 0;
  __u64 id = bpf_get_current_pid_tgid();
  __u32 tgid = id >> 32;
  if (!bpf_map_lookup_elem(&pids, &tgid)) return 0;
  __u32 zero = 0;
  __u32 *skip = bpf_map_lookup_elem(&ticks_to_skip, &zero);
  if (!skip) return 0;
  if (*skip > 0) {
    *skip -= 1;
    return 0;
  }
  *skip = cfg.tick_every > 0 ? cfg.tick_every - 1 : 0;
  /* Whether the tick interrupted the kernel is in the interrupt's registers (__irq_regs), a per-CPU
   * variable the verifier finds only in a kernel built with CONFIG_KALLSYMS_ALL. The thread's own entry
   * frame tells it cheaply: an interrupt from user space saved orig_ax = -1 there, a system call its
   * number, an exception its error code. Only then is the kernel stack taken (walking it costs about
   * 3.5 us here), and user space keeps its frames past the timer interrupt's entry stub: none means
   * the tick came from user space after all (GOPERF_F_TICK). */
  struct pt_regs *uregs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
#if defined(__TARGET_ARCH_arm64)
  /* arm64 keeps the system call number in syscallno, NO_SYSCALL (-1) for interrupts and exceptions. */
  bool maybe_kernel = (int)BPF_CORE_READ(uregs, syscallno) >= 0;
#else
  bool maybe_kernel = (long)BPF_CORE_READ(uregs, orig_ax) >= 0;
#endif
  return take_sample(ctx, id, 1, cfg.tick_weight_ns, GOPERF_F_TICK, maybe_kernel && cfg.capture_kernel);
}
