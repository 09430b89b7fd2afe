// One hidden layer of the built-in spaces' fused kernel (64 inputs, 64 outputs, a tile of
// 64 pixels; inference/fused.cpp's `dense`), in float32 FMAs and in bfloat16 pair dot
// products (AVX512_BF16 `vdpbf16ps`), to weigh reduced precision for the kernels
// (issue #17). Needs a CPU with AVX512_BF16 (AMD Zen 4, Intel Sapphire Rapids):
//
//     g++ -O3 -march=native -ffp-contract=off bench/dense_bf16.cpp -o /tmp/dense_bf16
//     /tmp/dense_bf16 [--json]  # GFLOP/s on one core, three rounds, and their ratio
//
// The numbers only time the products; docs/benchmarks.md says why the kernels stay in
// float32 (bfloat16 activations put grain into smooth gradients).
#include <immintrin.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {
constexpr int T = 64, V = 4, R = 4, K = 64, ROWS = 64, REPS = 200000;
alignas(64) float in[K * T], out[ROWS * T], w[K * ROWS], b[ROWS];
alignas(64) uint16_t in_bf[K * T];          // pairs of inputs (k, k + 1) side by side per pixel
alignas(64) uint32_t w_bf[(K / 2) * ROWS];  // the matching pairs of weights

__attribute__((noinline)) void dense_fp32() {
    for (int r0 = 0; r0 < ROWS; r0 += R) {
        __m512 acc[R][V];
        for (int r = 0; r < R; r++)
            for (int v = 0; v < V; v++) acc[r][v] = _mm512_set1_ps(b[r0 + r]);
        for (int k = 0; k < K; k++) {
            const __m512* x = reinterpret_cast<const __m512*>(in + k * T);
            for (int r = 0; r < R; r++) {
                __m512 wr = _mm512_set1_ps(w[k * ROWS + r0 + r]);
                for (int v = 0; v < V; v++) acc[r][v] = _mm512_fmadd_ps(wr, x[v], acc[r][v]);
            }
        }
        for (int r = 0; r < R; r++)
            for (int v = 0; v < V; v++) _mm512_store_ps(out + (r0 + r) * T + 16 * v, acc[r][v]);
    }
}

__attribute__((noinline)) void dense_bf16() {
    for (int r0 = 0; r0 < ROWS; r0 += R) {
        __m512 acc[R][V];
        for (int r = 0; r < R; r++)
            for (int v = 0; v < V; v++) acc[r][v] = _mm512_set1_ps(b[r0 + r]);
        for (int k = 0; k < K / 2; k++) {
            const __m512bh* x = reinterpret_cast<const __m512bh*>(in_bf + k * T * 2);
            for (int r = 0; r < R; r++) {
                __m512bh wr = (__m512bh)_mm512_set1_epi32(static_cast<int>(w_bf[k * ROWS + r0 + r]));
                for (int v = 0; v < V; v++) acc[r][v] = _mm512_dpbf16_ps(acc[r][v], wr, x[v]);
            }
        }
        for (int r = 0; r < R; r++)
            for (int v = 0; v < V; v++) _mm512_store_ps(out + (r0 + r) * T + 16 * v, acc[r][v]);
    }
}
}  // namespace

int main(int argc, char** argv) {
    const bool json = argc > 1 && std::strcmp(argv[1], "--json") == 0;
    for (int i = 0; i < K * T; i++) {
        in[i] = static_cast<float>(rand()) / RAND_MAX - 0.5f;
        in_bf[i] = 0x3c00 + rand() % 256;  // small positive bfloat16 values
    }
    for (int i = 0; i < K * ROWS; i++) w[i] = static_cast<float>(rand()) / RAND_MAX - 0.5f;
    for (int i = 0; i < K * ROWS / 2; i++) w_bf[i] = 0x3c003c00u + (rand() % 256) * 0x10001u;
    const double flop = 2.0 * K * ROWS * T * REPS;
    double rates[3][2];
    if (!json) std::printf("%8s %18s %18s %10s\n", "round", "float32 GFLOP/s", "bfloat16 GFLOP/s", "ratio");
    for (int round = 0; round < 3; round++) {
        auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < REPS; i++) dense_fp32();
        auto t1 = std::chrono::steady_clock::now();
        for (int i = 0; i < REPS; i++) dense_bf16();
        auto t2 = std::chrono::steady_clock::now();
        double fp32 = std::chrono::duration<double>(t1 - t0).count();
        double bf16 = std::chrono::duration<double>(t2 - t1).count();
        rates[round][0] = flop / fp32 / 1e9;
        rates[round][1] = flop / bf16 / 1e9;
        if (!json)
            std::printf("%8d %18.1f %18.1f %10.2f\n", round + 1, rates[round][0], rates[round][1],
                        fp32 / bf16);
    }
    if (json) {
        std::printf("{\"layer\": \"64x64, 64-pixel tile, one core\", \"rounds\": [");
        for (int round = 0; round < 3; round++)
            std::printf("%s{\"fp32_gflops\": %.1f, \"bf16_gflops\": %.1f, \"bf16_over_fp32\": %.2f}",
                        round ? ", " : "", rates[round][0], rates[round][1], rates[round][1] / rates[round][0]);
        std::printf("]}\n");
    }
    return out[0] == 12345.0f;  // keeps the products from being optimised away
}
