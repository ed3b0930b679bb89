package mobyc.data.aug;

import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * torchvision's {@code GaussianBlur(kernelSize, sigma=(sigmaMin, sigmaMax))} on tensors: sigma uniform in the range,
 * a {@code kernelSize x kernelSize} Gaussian (the outer product of {@link #kernel}) convolved per channel over the
 * image padded by {@code kernelSize / 2} in "reflect" mode (mirrored without repeating the edge). It is separable, so
 * it runs as a row pass then a column pass in double precision.
 *
 * <p>Kernel size: BYOL and MoBY's reference blur 224-pixel images with sigma in {@code [0.1, 2.0]}; BYOL's kernel is
 * 23 (10% of 224, odd), the reference's Pillow filter has no fixed size. {@link #kernelFor} keeps that proportion
 * for other sizes: {@code 2 * (size / 20) + 1} (23 for 224, 7 for 64, 3 for 32). Where the padding exceeds the
 * image (torch refuses), reflection continues periodically.
 */
public record GaussianBlur(int kernelSize, double sigmaMin, double sigmaMax) implements Transform {
    public GaussianBlur {
        if (kernelSize < 1 || kernelSize % 2 == 0) throw new IllegalArgumentException("kernel size " + kernelSize + " must be odd and positive");
        if (!(sigmaMin > 0 && sigmaMin <= sigmaMax && Double.isFinite(sigmaMax)))
            throw new IllegalArgumentException("sigma range [" + sigmaMin + ", " + sigmaMax + "] must satisfy 0 < min <= max");
    }

    /** BYOL's and MoBY's blur for {@code size x size} images: {@link #kernelFor}{@code (size)}, sigma in [0.1, 2.0]. */
    public static GaussianBlur moby(int size) { return new GaussianBlur(kernelFor(size), 0.1, 2.0); }

    /** An odd kernel of about 10% of {@code size}: {@code 2 * (size / 20) + 1}. */
    public static int kernelFor(int size) { return 2 * (size / 20) + 1; }

    /** Sigma uniform in {@code [sigmaMin, sigmaMax)}. */
    public double sample(RandomGenerator random) { return RandomResizedCrop.uniform(random, sigmaMin, sigmaMax); }

    /**
     * torchvision's {@code _get_gaussian_kernel1d} in float32: {@code exp(-0.5 * (x / sigma)^2)} at
     * {@code x = -(k-1)/2 .. (k-1)/2}, divided by its sum.
     */
    public static float[] kernel(int kernelSize, double sigma) {
        float s = (float) sigma, half = (kernelSize - 1) * 0.5f, sum = 0;
        float[] k = new float[kernelSize];
        for (int i = 0; i < kernelSize; i++) {
            float t = (-half + i) / s;
            k[i] = (float) Math.exp(-0.5f * (t * t));
            sum += k[i];
        }
        for (int i = 0; i < kernelSize; i++) k[i] /= sum;
        return k;
    }

    /** {@code F.gaussian_blur(img, [k, k], [sigma, sigma])}. */
    public static Image blur(Image img, int kernelSize, double sigma) {
        if (kernelSize < 1 || kernelSize % 2 == 0) throw new IllegalArgumentException("kernel size " + kernelSize + " must be odd and positive");
        if (!(sigma > 0)) throw new IllegalArgumentException("sigma " + sigma + " must be positive");
        float[] k = kernel(kernelSize, sigma);
        int r = kernelSize / 2, c = img.channels(), h = img.height(), w = img.width();
        int[] ys = new int[h + 2 * r];
        for (int i = 0; i < ys.length; i++) ys[i] = reflect(i - r, h);
        float[] s = img.data(), d = new float[s.length];
        double[] padded = new double[w + 2 * r], acc = new double[w];
        double[] rows = new double[h * w];
        for (int ch = 0; ch < c; ch++) {
            int plane = ch * h * w;
            // rows: each padded by reflection, then acc[x] += k[j] * padded[x + j], a loop over x the JIT vectorises
            for (int y = 0; y < h; y++) {
                int at = plane + y * w;
                for (int i = 0; i < padded.length; i++) padded[i] = s[at + reflect(i - r, w)];
                Arrays.fill(acc, 0);
                for (int j = 0; j < kernelSize; j++) {
                    double kj = k[j];
                    for (int x = 0; x < w; x++) acc[x] += kj * padded[x + j];
                }
                System.arraycopy(acc, 0, rows, y * w, w);
            }
            // columns: the same over whole rows
            for (int y = 0; y < h; y++) {
                Arrays.fill(acc, 0);
                for (int i = 0; i < kernelSize; i++) {
                    double ki = k[i];
                    int from = ys[y + i] * w;
                    for (int x = 0; x < w; x++) acc[x] += ki * rows[from + x];
                }
                for (int x = 0, at = plane + y * w; x < w; x++) d[at + x] = (float) acc[x];
            }
        }
        return new Image(c, h, w, d);
    }

    /** Index {@code i} of a line of {@code n} values mirrored at both ends without repeating the edge, periodically. */
    static int reflect(int i, int n) {
        if (n == 1) return 0;
        int period = 2 * (n - 1), m = Math.floorMod(i, period);
        return m < n ? m : period - m;
    }

    @Override
    public Image apply(Image img, RandomGenerator random) { return blur(img, kernelSize, sample(random)); }

    @Override public String toString() { return "GaussianBlur(" + kernelSize + ", sigma=(" + sigmaMin + ", " + sigmaMax + "))"; }
}
