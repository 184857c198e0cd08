/* Records shared by the eBPF program (go_stack.bpf.c) and its loader (bpf_sampler.cpp).
 * Plain C, fixed-width fields, no pointers: the same bytes on both sides of the ring buffer. */
#pragma once

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Largest user-stack copy per sample; a power of two so that the verifier can bound reads by masking. */
#define GOPERF_MAX_STACK_BYTES 16384
#define GOPERF_MAX_PIDS 1024
/* Largest prefix of a g the program reads at once (goperf_config.g_span), a power of two. */
#define GOPERF_G_SPAN_MAX 512
/* Where a g0 record's goroutine part starts at the most (GOPERF_F_SWITCH), a power of two. */
#define GOPERF_SWITCH_G0_BYTES 8192
/* Most of g0's stack a vDSO call's record keeps (its frames; the goroutine's follow), a power of two. */
#define GOPERF_VDSO_G0_BYTES 4096
/* Distinct samples aggregated between two drains; beyond it samples go to the ring buffer unaggregated. */
#define GOPERF_AGG_ENTRIES 16384
#define GOPERF_KSTACK_ENTRIES 4096
#define GOPERF_KSTACK_DEPTH 64
#define GOPERF_RINGBUF_BYTES (8u << 20)

/* goperf_sample.flags */
#define GOPERF_F_IN_KERNEL 1u   /* the interrupted pc was in the kernel */
#define GOPERF_F_G_VALID 2u     /* g was found and sp lies on its stack: the copy runs to stack.hi */
#define GOPERF_F_NOAGG 4u       /* the aggregation map was full: this record stands alone */
#define GOPERF_F_STACK_SHORT 8u /* the full copy faulted; only the rest of sp's page was copied */
/* Taken on the scheduler tick: the kernel stack starts in the tick's hrtimer code, and only its frames
 * past the timer interrupt's entry stub (unwind::interrupted_frames) are the thread's; GOPERF_F_IN_KERNEL
 * is not set, as the program cannot see where the interrupt came from. */
#define GOPERF_F_TICK 16u
/* Keyed by its code addresses only (a goroutine-stack sample in the executable: go_stack.bpf.c). */
#define GOPERF_F_CODE_KEY 32u
/* On g0 serving m.curg (systemstack, morestack, cgo): stack2 is curg's stack from curg.sched.sp, and
 * switch_pc/switch_bp the rest of curg.sched, all read at the sample. */
#define GOPERF_F_SWITCH 64u
/* On g0 with m.curg == 0 (the scheduler after dropg, e.g. a preemption through morestack): no goroutine to
 * continue on; the runtime's traceback ends at the system stack's top frame (morestack) too. */
#define GOPERF_F_NO_CURG 128u

/* Aggregation key: identical captured data (registers, stack bytes, goroutine, labels, kernel stack)
 * hash to the same key, so the kernel counts repeats instead of sending them again. */
struct goperf_agg_key {
  __u64 hash;
  __u32 tgid;
  __u32 pad;
};

struct goperf_agg_value {
  __u64 count;   /* repeats since the record with the data went through the ring buffer */
  __u64 period;  /* sum of the events' periods over those repeats */
};

/* One ring-buffer record: the first occurrence of a key (count 1), followed by stack_len bytes. */
struct goperf_sample {
  __u64 hash;
  __u32 tgid;
  __u32 tid;
  __u64 time_ns;
  __u64 period;
  __u64 pc;
  __u64 sp;
  __u64 fp;
  __u64 r14;      /* the g register: r14 (amd64), x28 (arm64) */
  __u64 lr;       /* arm64's link register x30 (a frameless leaf's return address); 0 on amd64 */
  __u64 fs_base;
  __u64 g;        /* the g the sample ran on (TLS or r14), 0 when none was found */
  __u64 goid;     /* of m.curg: the user goroutine even when on the system stack */
  __u64 labels;   /* m.curg.labels: pointer to the runtime/pprof label set, decoded in user space */
  __s32 kstack_id;
  __u32 flags;
  __u32 stack_len;     /* bytes of stack[] */
  __u32 stack2_len;    /* of which the last ones are a copy of the goroutine stack at stack2_addr */
  __u64 stack2_addr;   /* (a vDSO call on g0's stack: g0's part first, then the caller's frames) */
  __u64 switch_pc;     /* GOPERF_F_SWITCH: curg.sched.pc and .bp (.sp is stack2_addr) */
  __u64 switch_bp;
  __u8 stack[GOPERF_MAX_STACK_BYTES];
};

/* Read-only configuration (rodata): Go runtime offsets from unwind::GoRuntimeLayout, none built in. */
struct goperf_config {
  __u32 stack_bytes;
  __u32 g_stack_hi_offset;
  __u32 g_m_offset;
  __u32 m_curg_offset;
  __u32 g_goid_offset;
  __u32 g_labels_offset;
  __s64 tls_g_offset;
  __u32 capture_kernel;
  __u32 m_g0_offset;  /* m.g0: a vDSO call runs on g0's stack with g unchanged */
  __u32 m_vdso_sp_offset;   /* m.vdsoSP: sp of the vDSO caller's caller, on the goroutine stack */
  __u32 g_sched_sp_offset;  /* g0.sched.sp: where the vDSO call's part of g0's stack ends */
  __u32 g_span;             /* bytes of g read at once: past the last g field above, <= GOPERF_G_SPAN_MAX */
  __u32 g_sched_pc_offset;  /* g.sched.pc and .bp: where a goroutine on g0's service resumes */
  __u32 g_sched_bp_offset;
  __u32 m_span;             /* bytes of m read at once: past m.g0 and m.curg, <= GOPERF_G_SPAN_MAX */
  /* Sampling on the scheduler tick (unwind::SamplingPlan); all 0 when the tick is not used. */
  __u32 tick_every;       /* sample every Nth tick of a target thread (per CPU) */
  __u32 pad;
  __u64 tick_handler;     /* kernel address of the tick's hrtimer function */
  __u64 tick_weight_ns;   /* CPU time one tick sample stands for */
  __u64 clock_weight_ns;  /* CPU time one perf-event sample stands for; 0: its sample_period */
};
