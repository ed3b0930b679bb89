package mobyc.data.aug;

/**
 * Cropping and bilinear resizing as torchvision 0.14 does them on tensors.
 *
 * <p>{@link #bilinear} with {@code antialias = false} is {@code interpolate(mode='bilinear', align_corners=False)}
 * (what {@code F.resized_crop(..., antialias=False)} and {@code RandomResizedCrop} use on tensors): output pixel
 * {@code o} samples input coordinate {@code max(0, (o + 0.5) * in / out - 0.5)} between its two neighbours. With
 * {@code antialias = true} it is PyTorch's {@code _upsample_bilinear2d_aa} (Pillow's resampling: a triangle filter
 * widened by the scale when shrinking, normalised per output pixel; width first, then height), which the reference
 * gets from Pillow's {@code Image.resize} in its evaluation transform. Arithmetic follows PyTorch's float32 CPU
 * kernels step by step, so results agree to a few float32 ulps.
 */
public final class Resize {
    private Resize() {}

    /**
     * Rows {@code [top, top + height)} and columns {@code [left, left + width)} of {@code img}; places outside the
     * image are 0 (torchvision's tensor {@code crop} pads with zeros).
     */
    public static Image crop(Image img, int top, int left, int height, int width) {
        if (height < 1 || width < 1) throw new IllegalArgumentException("crop size " + height + "x" + width + " must be positive");
        if (top == 0 && left == 0 && height == img.height() && width == img.width()) return img;
        int c = img.channels(), h = img.height(), w = img.width();
        Image out = Image.zeros(c, height, width);
        float[] s = img.data(), d = out.data();
        int x0 = Math.max(0, -left), x1 = Math.min(width, w - left);
        for (int ch = 0; ch < c; ch++)
            for (int y = 0; y < height; y++) {
                int sy = top + y;
                if (sy < 0 || sy >= h || x0 >= x1) continue;
                System.arraycopy(s, (ch * h + sy) * w + left + x0, d, (ch * height + y) * width + x0, x1 - x0);
            }
        return out;
    }

    /**
     * torchvision's {@code center_crop}: offsets {@code round((H - height) / 2)} and {@code round((W - width) / 2)}
     * (half to even, as Python's round), padding with zeros first where the image is smaller than the crop.
     */
    public static Image centerCrop(Image img, int height, int width) {
        int h = img.height(), w = img.width();
        int padTop = height > h ? (height - h) / 2 : 0, padLeft = width > w ? (width - w) / 2 : 0;
        int paddedH = Math.max(height, h), paddedW = Math.max(width, w);
        int top = (int) Math.rint((paddedH - height) / 2.0) - padTop, left = (int) Math.rint((paddedW - width) / 2.0) - padLeft;
        return crop(img, top, left, height, width);
    }

    /**
     * torchvision's {@code resize(img, size)} with one int: the shorter side becomes {@code size}, the longer
     * {@code int(size * long / short)}; unchanged when that is already the size.
     */
    public static Image shorterSide(Image img, int size, boolean antialias) {
        int[] hw = shorterSideSize(img.height(), img.width(), size);
        return bilinear(img, hw[0], hw[1], antialias);
    }

    /** The {@code {height, width}} that {@link #shorterSide} resizes to. */
    public static int[] shorterSideSize(int height, int width, int size) {
        if (size < 1) throw new IllegalArgumentException("size " + size + " must be positive");
        int shorter = Math.min(height, width), longer = Math.max(height, width);
        int newLong = (int) ((double) ((long) size * longer) / shorter);
        return width <= height ? new int[] {newLong, size} : new int[] {size, newLong};
    }

    /** {@code F.resized_crop}: {@link #crop} then {@link #bilinear} to {@code outHeight x outWidth}. */
    public static Image resizedCrop(Image img, int top, int left, int height, int width, int outHeight, int outWidth,
            boolean antialias) {
        return bilinear(crop(img, top, left, height, width), outHeight, outWidth, antialias);
    }

    /** Bilinear resize to {@code outHeight x outWidth} (see the class comment); the image itself when the size is equal. */
    public static Image bilinear(Image img, int outHeight, int outWidth, boolean antialias) {
        if (outHeight < 1 || outWidth < 1) throw new IllegalArgumentException("output size " + outHeight + "x" + outWidth + " must be positive");
        if (outHeight == img.height() && outWidth == img.width()) return img;
        return antialias ? antialiased(img, outHeight, outWidth) : linear(img, outHeight, outWidth);
    }

    /** Source index pairs and weights of one axis, as PyTorch's {@code compute_indices_weights_linear}. */
    private record Linear(int[] i0, int[] i1, float[] w0, float[] w1) {
        static Linear of(int in, int out) {
            int[] i0 = new int[out], i1 = new int[out];
            float[] w0 = new float[out], w1 = new float[out];
            float scale = (float) in / out;
            for (int o = 0; o < out; o++) {
                float src = scale * (o + 0.5f) - 0.5f;
                if (src < 0) src = 0;
                int lo = (int) src;
                float lambda = Math.min(Math.max(src - lo, 0f), 1f);
                i0[o] = lo;
                i1[o] = lo + (lo < in - 1 ? 1 : 0);
                w1[o] = lambda;
                w0[o] = 1f - lambda;
            }
            return new Linear(i0, i1, w0, w1);
        }
    }

    private static Image linear(Image img, int outH, int outW) {
        int c = img.channels(), h = img.height(), w = img.width();
        Linear ys = Linear.of(h, outH), xs = Linear.of(w, outW);
        Image out = Image.zeros(c, outH, outW);
        float[] s = img.data(), d = out.data();
        for (int ch = 0; ch < c; ch++) {
            int plane = ch * h * w;
            for (int y = 0; y < outH; y++) {
                int r0 = plane + ys.i0[y] * w, r1 = plane + ys.i1[y] * w, at = (ch * outH + y) * outW;
                float h0 = ys.w0[y], h1 = ys.w1[y];
                for (int x = 0; x < outW; x++) {
                    int a = xs.i0[x], b = xs.i1[x];
                    float v0 = xs.w0[x], v1 = xs.w1[x];
                    float top = s[r0 + a] * v0 + s[r0 + b] * v1;
                    float bottom = s[r1 + a] * v0 + s[r1 + b] * v1;
                    d[at + x] = top * h0 + bottom * h1;
                }
            }
        }
        return out;
    }

    /** Taps of one axis for antialiased resampling, as PyTorch's {@code _compute_indices_weights_aa} (bilinear). */
    private record Taps(int[] start, float[][] weights) {
        static Taps of(int in, int out) {
            float scale = (float) in / out;
            float support = scale >= 1f ? scale : 1f;
            float invScale = scale >= 1f ? 1f / scale : 1f;
            int[] start = new int[out];
            float[][] weights = new float[out][];
            for (int i = 0; i < out; i++) {
                float center = (float) (scale * (i + 0.5));
                int min = Math.max((int) (center - support + 0.5), 0);
                int size = Math.min((int) (center + support + 0.5), in) - min;
                float[] w = new float[Math.max(size, 0)];
                float total = 0;
                for (int j = 0; j < w.length; j++) {
                    float x = (float) ((((float) (j + min) - center) + 0.5) * invScale);
                    if (x < 0) x = -x;
                    w[j] = x < 1f ? 1f - x : 0f;
                    total += w[j];
                }
                if (total != 0f) for (int j = 0; j < w.length; j++) w[j] /= total;
                start[i] = min;
                weights[i] = w;
            }
            return new Taps(start, weights);
        }
    }

    private static Image antialiased(Image img, int outH, int outW) {
        int c = img.channels(), h = img.height(), w = img.width();
        Image wide = img;
        if (outW != w) {
            Taps t = Taps.of(w, outW);
            wide = Image.zeros(c, h, outW);
            float[] s = img.data(), d = wide.data();
            for (int row = 0; row < c * h; row++)
                for (int x = 0; x < outW; x++) {
                    int at = row * w + t.start[x];
                    float[] wt = t.weights[x];
                    float acc = s[at] * wt[0];
                    for (int j = 1; j < wt.length; j++) acc += s[at + j] * wt[j];
                    d[row * outW + x] = acc;
                }
        }
        if (outH == h) return wide;
        Taps t = Taps.of(h, outH);
        Image out = Image.zeros(c, outH, outW);
        float[] s = wide.data(), d = out.data();
        for (int ch = 0; ch < c; ch++)
            for (int y = 0; y < outH; y++) {
                float[] wt = t.weights[y];
                int base = (ch * h + t.start[y]) * outW, at = (ch * outH + y) * outW;
                for (int x = 0; x < outW; x++) {
                    float acc = s[base + x] * wt[0];
                    for (int j = 1; j < wt.length; j++) acc += s[base + j * outW + x] * wt[j];
                    d[at + x] = acc;
                }
            }
        return out;
    }
}
