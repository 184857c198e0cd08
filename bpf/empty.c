/* Keeps goperf_bpf a valid library before the sampler lands. */
void goperf_bpf_placeholder(void);
void goperf_bpf_placeholder(void) {}
