/* simd.h — internal to core/nn: TS_NN_CLONES compiles a hot loop twice,
 * for AVX2 and for the baseline x86-64 the build targets, and picks one
 * when the library loads (GCC/Clang target_clones, an ifunc). The loops it
 * marks only add, subtract and multiply without fused multiply-adds (ISO C
 * mode keeps -ffp-contract=off), so both clones give the same bits. */
#ifndef TS_NN_SIMD_H
#define TS_NN_SIMD_H

#if defined(__x86_64__) && defined(__linux__) && (defined(__GNUC__) || defined(__clang__))
#define TS_NN_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define TS_NN_CLONES
#endif

/* a helper of a TS_NN_CLONES function, inlined so that each clone gets it
 * compiled for its own instruction set */
#if defined(__GNUC__) || defined(__clang__)
#define TS_NN_INLINE __attribute__((always_inline)) inline
#else
#define TS_NN_INLINE inline
#endif

#endif
