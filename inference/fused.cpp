// Fused pixel kernels of the built-in CPPN spaces (see inference/fused.py).
//
// A picture is computed in tiles of T pixels. For each tile, every layer of the network
// is one small matrix product whose accumulators stay in registers, with the bias added
// first and the activation applied before the result is stored: the activations never
// make a separate pass over memory, and a tile's activations stay in the L1 cache.
//
// Every pixel is computed by the same sequence of float operations whatever the tile,
// batch, size or thread count, so pictures are bit-stable. The vector types below are
// GCC's generic vectors: the compiler maps them to AVX-512, AVX2 or NEON instructions
// without changing the arithmetic of any lane.

#include <cmath>
#include <cstdint>
#include <cstring>
#include <utility>

#if defined(__AVX512F__) || defined(__FMA__) || defined(__AVX__)
#include <immintrin.h>
#endif

namespace {

// Lanes per vector: as many floats as one vector register holds. Wider generic vectors
// than the machine's registers are lowered by the compiler through memory, lane group by
// lane group: 16 lanes on an AVX2 machine (an AMD EPYC, Zen 3) painted 7 times slower than
// 8 (245 ms of CPU a 256 px abstract picture against 33). The lane count never changes a
// pixel: every lane does the same float operations.
#if defined(__AVX512F__)
constexpr int L = 16;
#elif defined(__AVX__)
constexpr int L = 8;
#else
constexpr int L = 4;        // SSE, NEON
#endif

typedef float vf __attribute__((vector_size(4 * L)));
typedef int32_t vi __attribute__((vector_size(4 * L)));

// The accumulators of a register block must stay in the vector registers: 4 x 4 measured
// fastest on an Intel Xeon with AVX-512 (32 registers; 4 x 5 as fast; 8 x 2, 4 x 3 and 2 x 8
// slower; 4 x 6 spills registers); with AVX2's 16, 4 x 3 on an AMD EPYC (Zen 3: 33 ms a
// 256 px abstract picture on one core, against 39 for 4 x 4, 63 for 4 x 2). The tiling never
// changes a pixel.
#if defined(__AVX512F__)
constexpr int V = 4;        // vectors of L pixels per tile row
#else
constexpr int V = 3;
#endif
constexpr int T = L * V;    // pixels per tile
constexpr int R = 4;        // output rows per register block (R * V accumulators)
constexpr int MAX_WIDTH = 64;   // widest layer
constexpr int MAX_INPUT = 32;   // most inputs of the first layer
// x + ROUNDER - ROUNDER rounds x to the nearest integer, ties to even, like torch.round,
// for |x| < 2^22 (far beyond any pre-activation here).
constexpr float ROUNDER = 12582912.0f;  // 1.5 * 2^23

// Every lane x, written as one braced list of L copies: built lane by lane in a loop, the
// vector went through memory and AVX-512 painted 5 times slower (7.7 abstract thumbnails a
// second on an AMD EPYC, Zen 4, against 41.5).
template <std::size_t... I>
inline vf splat_lanes(float x, std::index_sequence<I...>) { return vf{((void)I, x)...}; }
inline vf splat(float x) { return splat_lanes(x, std::make_index_sequence<L>{}); }
inline vf vabs(vf x) { return (vf)((vi)x & 0x7fffffff); }
inline vf vround(vf x) { return (x + ROUNDER) - ROUNDER; }

// a * b + c with one rounding, lane by lane: an FMA instruction where the machine has one.
// The kernels are compiled without contraction (-ffp-contract=off), so every fused
// multiply-add is written out here and no compiler may choose others.
inline vf fma(vf a, vf b, vf c) {
#if defined(__AVX512F__)
    return (vf)_mm512_fmadd_ps((__m512)a, (__m512)b, (__m512)c);
#elif defined(__FMA__)
    return (vf)_mm256_fmadd_ps((__m256)a, (__m256)b, (__m256)c);
#else
    vf r;
    for (int i = 0; i < L; i++) r[i] = __builtin_fmaf(a[i], b[i], c[i]);
    return r;
#endif
}

// sin(2 pi x) / 8, approximately: t - 2 t |t| with t = x - round(x) (inference.abstract.psin).
inline vf psin(vf x) {
    vf t = x - vround(x);
    return t - (t * 2.0f) * vabs(t);
}

// x - x^3 / 3 on x clamped to [-1, 1] (inference.abstract.soft_clamp).
inline vf soft_clamp(vf x) {
    vf one = splat(1.0f);
    vf c = x < one ? x : one;
    c = c > -one ? c : -one;
    return c - (c * (c * c)) / 3.0f;
}

// exp(x) within 2 ulp: Cody and Waite's reduction x = n ln 2 + r, |r| <= ln 2 / 2, and
// the degree-6 polynomial of the Cephes library's expf for e^r, scaled by 2^n through the
// exponent bits. Written out (rather than libm's expf) so that it runs on every lane at once
// and gives the same bits with any C library.
inline vf vexp(vf x) {
    x = x < 88.0f ? x : splat(88.0f);
    x = x > -87.0f ? x : splat(-87.0f);
    vf n = vround(x * 1.44269504088896341f);
    vf r = (x - n * 0.693359375f) - n * -2.12194440e-4f;
    vf p = splat(1.9875691500e-4f);
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = (p * (r * r) + r) + 1.0f;
    vi scale = (__builtin_convertvector(n, vi) + 127) << 23;
    return p * (vf)scale;
}

enum Activation { NONE, PSIN, SOFT_CLAMP };

// out[r] = act(b[r] + sum_k W[k][r] * in[k]) for r < rows, each row T pixels wide.
// W is (K, rows) row-major: the R weights a block needs at step k sit side by side.
template <Activation ACT, int R = R>
void dense(const float* __restrict w, const float* __restrict b, int rows, int K,
           const float* __restrict in, float* __restrict out) {
    for (int r0 = 0; r0 < rows; r0 += R) {
        vf acc[R][V];
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) {
            vf bias = splat(b[r0 + r]);
#pragma GCC unroll 4
            for (int v = 0; v < V; v++) acc[r][v] = bias;
        }
        for (int k = 0; k < K; k++) {
            const vf* x = reinterpret_cast<const vf*>(in + k * T);
            const float* wk = w + k * rows + r0;
#pragma GCC unroll 4
            for (int r = 0; r < R; r++) {
                vf wr = splat(wk[r]);
#pragma GCC unroll 4
                for (int v = 0; v < V; v++) acc[r][v] = fma(wr, x[v], acc[r][v]);
            }
        }
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) {
            vf* o = reinterpret_cast<vf*>(out + (r0 + r) * T);
#pragma GCC unroll 4
            for (int v = 0; v < V; v++) {
                vf a = acc[r][v];
                if (ACT == PSIN) a = psin(a);
                if (ACT == SOFT_CLAMP) a = soft_clamp(a);
                o[v] = a;
            }
        }
    }
}

// Pixel centres x, y in [-1, 1] of pixels [first, first + T) of a size x size picture
// (row-major; past the last pixel, the rows below it), through an optional view
// (zoom, cx, cy): the same float operations as the spaces' torch grids. The column and
// row are counted on from the first pixel's (one integer division a tile, not two a pixel).
void grid(int64_t first, int64_t size, const float* view, float* x, float* y) {
    const float scale = static_cast<float>(2.0 / static_cast<double>(size));
    int64_t column = first % size, row = first / size;
    for (int j = 0; j < T; j++) {
        x[j] = (static_cast<float>(column) + 0.5f) * scale - 1.0f;
        y[j] = (static_cast<float>(row) + 0.5f) * scale - 1.0f;
        if (view) {
            x[j] = x[j] * view[0] + view[1];
            y[j] = y[j] * view[0] + view[2];
        }
        if (++column == size) {
            column = 0;
            row++;
        }
    }
}

// The hidden layers and output of both spaces' networks, on one tile: layer 0 reads
// ``k0`` inputs, layers 0 and 1 are psin, layer 2 reads [layer 1; layer 0] and is soft
// clamped, the output has 4 rows (fields, then zero padding). ``width`` is the hidden
// width, a multiple of R.
struct Network {
    const float *w0, *b0, *w1, *b1, *w2, *b2, *w3, *b3;
    int width;
    alignas(64) float h01[2 * MAX_WIDTH * T];  // layer 1, then layer 0: layer 2's input
    alignas(64) float h2[MAX_WIDTH * T];
    alignas(64) float out[4 * T];

    void run(const float* in0, int k0) {
        float* h1 = h01;
        float* h0 = h01 + width * T;
        dense<PSIN>(w0, b0, width, k0, in0, h0);
        dense<PSIN>(w1, b1, width, width, h0, h1);
        dense<SOFT_CLAMP>(w2, b2, width, 2 * width, h01, h2);
        dense<NONE, 4>(w3, b3, 4, width, h2, out);
    }
};

inline vf sigmoid(vf x) { return 1.0f / (1.0f + vexp(-x)); }
inline vf vtanh(vf x) { return 1.0f - 2.0f / (1.0f + vexp(x * 2.0f)); }
inline vf vsqrt(vf x) {
    for (int i = 0; i < L; i++) x[i] = std::sqrt(x[i]);
    return x;
}

// atan2(a, b) within about 2e-7: reduced to atan(t) for t = min / max of |a|, |b| in
// [0, 1], then to |t| <= tan(pi / 8) around pi / 4, where the Cephes library's odd
// polynomial for atanf takes over; quadrants restored after.
inline vf vatan2(vf a, vf b) {
    const vf zero = splat(0.0f);
    vf ax = vabs(a), bx = vabs(b);
    vf lo = ax < bx ? ax : bx, hi = ax < bx ? bx : ax;
    vf t = hi > zero ? lo / (hi > zero ? hi : splat(1.0f)) : zero;
    vf big = t > 0.41421356f ? splat(1.0f) : zero;  // 1 where reduced around pi / 4
    t = big > zero ? (t - 1.0f) / (t + 1.0f) : t;
    vf z = t * t;
    vf p = ((((z * 8.05374449538e-2f - 1.38776856032e-1f) * z + 1.99777106478e-1f) * z
              - 3.33329491539e-1f) * z) * t + t;
    vf r = p + big * 0.78539816339744831f;
    r = ax > bx ? 1.57079632679489662f - r : r;
    r = b < zero ? 3.14159265358979324f - r : r;
    return a < zero ? -r : r;
}

// sin and cos of p in [0, pi / 3] (a wedge of a radial figure) by their Taylor series to
// p^9 and p^10: within 5e-8 there.
inline void vsincos(vf p, vf& sine, vf& cosine) {
    vf z = p * p;
    sine = p * ((((z * (1.0f / 362880.0f) - 1.0f / 5040.0f) * z + 1.0f / 120.0f) * z
                 - 1.0f / 6.0f) * z + 1.0f);
    cosine = ((((z * (-1.0f / 3628800.0f) + 1.0f / 40320.0f) * z - 1.0f / 720.0f) * z
               + 1.0f / 24.0f) * z - 0.5f) * z + 1.0f;
}

// A colour channel in [0, 1] (clamped) as a level 0..255, rounded to nearest.
inline uint8_t level(float value) {
    value = value < 0.0f ? 0.0f : (value > 1.0f ? 1.0f : value);
    return static_cast<uint8_t>(std::nearbyint(value * 255.0f));
}

}  // namespace

extern "C" {

// The abstract space (inference/abstract.py) for one image: pixels [start, start + count)
// of a size x size picture. ``args`` (F + 2, 3) maps [x, y, 1] to the F Fourier arguments
// and u, v; the first layer reads [waves (F), |(u, v)|, x, y]. Weights are (in, out) with
// ``width`` outputs per hidden layer (a multiple of 4, zero-padded), the last one 4 wide
// (2 fields, 2 zero rows). With ``paint`` null the two raw fields go to ``fields``
// (2, count); else ``paint`` holds mean and std of both fields (m1, m2, s1, s2), ripple
// frequency, ripple, shade, contrast, and the colours go to ``rgb`` (count, 3) through the
// (lut_size, 3) palette gradient ``lut``. Returns 0, or -1 if a width is out of range.
int abstract_render(int64_t start, int64_t count, int64_t size, const float* view,
                    const float* args, int64_t n_fourier, int64_t width,
                    const float* w0, const float* b0, const float* w1, const float* b1,
                    const float* w2, const float* b2, const float* w3, const float* b3,
                    const float* paint, const float* lut, int64_t lut_size,
                    float* fields, uint8_t* rgb) {
    const int F = static_cast<int>(n_fourier), H = static_cast<int>(width);
    if (F + 3 > MAX_INPUT || H > MAX_WIDTH || H % R != 0 || F < 0) return -1;
    alignas(64) float x[T], y[T];
    alignas(64) float in0[MAX_INPUT * T];
    Network net{w0, b0, w1, b1, w2, b2, w3, b3, H};
    const float* out = net.out;
    for (int64_t t0 = 0; t0 < count; t0 += T) {
        grid(start + t0, size, view, x, y);
        const vf* vx = reinterpret_cast<const vf*>(x);
        const vf* vy = reinterpret_cast<const vf*>(y);
        vf* in = reinterpret_cast<vf*>(in0);
        for (int v = 0; v < V; v++) {
            for (int f = 0; f < F; f++) {
                const float* a = args + 3 * f;
                in[f * V + v] = psin(vx[v] * a[0] + vy[v] * a[1] + a[2]);
            }
            const float* a = args + 3 * F;
            vf u = vx[v] * a[0] + vy[v] * a[1] + a[2];
            vf w = vx[v] * a[3] + vy[v] * a[4] + a[5];
            in[F * V + v] = vsqrt(u * u + w * w);
            in[(F + 1) * V + v] = vx[v];
            in[(F + 2) * V + v] = vy[v];
        }
        net.run(in0, F + 3);
        const int64_t valid = count - t0 < T ? count - t0 : T;
        if (!paint) {
            std::memcpy(fields + t0, out, valid * sizeof(float));
            std::memcpy(fields + count + t0, out + T, valid * sizeof(float));
            continue;
        }
        // Colours: both fields normalised, ripples along the first one's contours and
        // shading by the second (the light), the first one's sigmoid picks the palette entry.
        const vf m1 = splat(paint[0]), m2 = splat(paint[1]), s1 = splat(paint[2]);
        const vf s2 = splat(paint[3]), ripple_freq = splat(paint[4]);
        const vf ripple = splat(8.0f * paint[5]), shade = splat(1.5f * paint[6]);
        const vf contrast = splat(paint[7]), top = splat(static_cast<float>(lut_size - 1));
        alignas(64) float light[T];
        alignas(64) int32_t index[T];
        for (int v = 0; v < V; v++) {
            vf f1 = (reinterpret_cast<const vf*>(out)[v] - m1) / s1;
            vf f2 = (reinterpret_cast<const vf*>(out + T)[v] - m2) / s2;
            vf l = soft_clamp(f2 * 0.5f) * shade + psin(f1 * ripple_freq) * ripple + 1.0f;
            vf position = sigmoid(f1 * contrast);
            reinterpret_cast<vf*>(light)[v] = l;
            reinterpret_cast<vi*>(index)[v] = __builtin_convertvector(vround(position * top), vi);
        }
        uint8_t* o = rgb + 3 * t0;
        for (int64_t j = 0; j < valid; j++) {
            const float* c = lut + 3 * index[j];
            for (int k = 0; k < 3; k++) o[3 * j + k] = level(c[k] * light[j]);
        }
    }
    return 0;
}

// The figures space (inference/figures.py) for one image: pixels [start, start + count)
// of a size x size picture (the probe: a 64 x 64 one). The image's fields are the weighted
// sum of those of ``parts`` symmetries, each given in ``symmetries`` as (weight, kind, folds):
// the plane is folded (FiguresSpace._fold: kind 0 a mirror, 1 radial with ``folds``
// wedges, 2 none; ``asym`` of x added back to symmetric ones; centred at y = paint[8])
// into (fx, fy). ``affine`` (2, 3) maps [fx, fy, 1] to (u, v), ``waves`` (n_waves, 3) maps
// [u, v, 1] to wave arguments; the first layer reads [waves, u, v, |(u, v)|]. Layers as in abstract_render (3 fields, 1 zero row).
// With ``paint`` null the three raw fields go to ``fields`` (3, count); else ``paint``
// holds the fields' means (3) and stds (3), the threshold, envelope, centre, sharpness,
// outline, depth, shade, figure contrast, ground contrast and ground tilt, and the colours
// go to ``rgb`` (count, 3) through the figure's and the ground's (lut_size, 3) gradients.
int figures_render(int64_t start, int64_t count, int64_t size, int64_t parts,
                   const float* symmetries, float asym, float centre, const float* affine,
                   const float* waves, int64_t n_waves, int64_t width,
                   const float* w0, const float* b0, const float* w1, const float* b1,
                   const float* w2, const float* b2, const float* w3, const float* b3,
                   const float* paint, const float* figure_lut, const float* ground_lut,
                   int64_t lut_size, float* fields, uint8_t* rgb) {
    const int W = static_cast<int>(n_waves), H = static_cast<int>(width);
    if (W + 3 > MAX_INPUT || H > MAX_WIDTH || H % R != 0 || W < 0 || parts < 1) return -1;
    alignas(64) float x[T], y[T];
    alignas(64) float in0[MAX_INPUT * T];
    alignas(64) float sum[3 * T];
    Network net{w0, b0, w1, b1, w2, b2, w3, b3, H};
    const vf* out = reinterpret_cast<const vf*>(net.out);
    vf* blend = reinterpret_cast<vf*>(sum);
    vf* in = reinterpret_cast<vf*>(in0);
    for (int64_t t0 = 0; t0 < count; t0 += T) {
        grid(start + t0, size, nullptr, x, y);
        for (int64_t p = 0; p < parts; p++) {
            const float weight = symmetries[3 * p];
            const int kind = static_cast<int>(symmetries[3 * p + 1]);
            const float folds = symmetries[3 * p + 2];
            for (int v = 0; v < V; v++) {
                vf vx = reinterpret_cast<const vf*>(x)[v];
                vf fy = reinterpret_cast<const vf*>(y)[v] - centre;
                vf fx = vx;
                if (kind == 0) fx = vabs(vx);
                if (kind == 1) {
                    vf radius = vsqrt(vx * vx + fy * fy);
                    vf turn = vatan2(vx, fy) * (folds / 6.28318530717958648f);
                    vf psi = vabs(turn - vround(turn)) * (6.28318530717958648f / folds);
                    vf sine, cosine;
                    vsincos(psi, sine, cosine);
                    fx = radius * sine;
                    fy = radius * cosine;
                }
                if (kind != 2 && asym > 0.0f) fx = fx + vx * asym;
                vf u = fx * affine[0] + fy * affine[1] + affine[2];
                vf w = fx * affine[3] + fy * affine[4] + affine[5];
                for (int k = 0; k < W; k++) {
                    const float* a = waves + 3 * k;
                    in[k * V + v] = psin(u * a[0] + w * a[1] + a[2]);
                }
                in[W * V + v] = u;
                in[(W + 1) * V + v] = w;
                in[(W + 2) * V + v] = vsqrt(u * u + w * w);
            }
            net.run(in0, W + 3);
            for (int i = 0; i < 3 * V; i++) {
                vf part = weight == 1.0f ? out[i] : out[i] * weight;
                blend[i] = p == 0 ? part : blend[i] + part;
            }
        }
        const int64_t valid = count - t0 < T ? count - t0 : T;
        if (!paint) {
            for (int k = 0; k < 3; k++)
                std::memcpy(fields + k * count + t0, sum + k * T, valid * sizeof(float));
            continue;
        }
        // The figure's edge at depth 0 of the normalised mask field less the central
        // envelope, shaded and outlined, over the ground (FiguresSpace._paint).
        const float top = static_cast<float>(lut_size - 1);
        const float sharp = paint[9];
        const float line_k = (sharp < 40.0f ? sharp : 40.0f) * 0.5f + 2.0f;
        alignas(64) float mask[T], line[T], shade[T];
        alignas(64) int32_t figure_at[T], ground_at[T];
        for (int v = 0; v < V; v++) {
            vf f0 = (blend[v] - paint[0]) / paint[3];
            vf f1 = (blend[V + v] - paint[1]) / paint[4];
            vf f2 = (blend[2 * V + v] - paint[2]) / paint[5];
            vf vx = reinterpret_cast<const vf*>(x)[v];
            vf vy = reinterpret_cast<const vf*>(y)[v];
            vf dy = vy - paint[8];
            vf depth = (f0 - (vx * vx + dy * dy) * paint[7]) - paint[6];
            vf d = depth * line_k;
            reinterpret_cast<vf*>(mask)[v] = sigmoid(depth * sharp);
            reinterpret_cast<vf*>(line)[v] = 1.0f - (1.0f / (1.0f + d * d)) * paint[10];
            reinterpret_cast<vf*>(shade)[v] = 1.0f + vtanh(depth) * paint[12];
            vf fa = sigmoid(f1 * paint[13] + depth * paint[11]) * top;
            vf ga = sigmoid(f2 * paint[14] + vy * paint[15]) * top;
            reinterpret_cast<vi*>(figure_at)[v] = __builtin_convertvector(vround(fa), vi);
            reinterpret_cast<vi*>(ground_at)[v] = __builtin_convertvector(vround(ga), vi);
        }
        uint8_t* o = rgb + 3 * t0;
        for (int64_t j = 0; j < valid; j++) {
            const float* fc = figure_lut + 3 * figure_at[j];
            const float* gc = ground_lut + 3 * ground_at[j];
            for (int k = 0; k < 3; k++) {
                float figure = fc[k] * shade[j];
                o[3 * j + k] = level((gc[k] + (figure - gc[k]) * mask[j]) * line[j]);
            }
        }
    }
    return 0;
}

}  // extern "C"
