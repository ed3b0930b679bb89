package mobyc.data.aug;

import java.util.Objects;

/**
 * One decoded image as {@code float [C, H, W]}, row-major (one plane per channel), with values in {@code [0, 1]}
 * (byte {@code v} is {@code v / 255f}, as torchvision's {@code ToTensor} gives) until {@link Normalize} shifts them.
 * Every image has its own size: decoded JPEGs differ. The pixel array is shared, not copied: transforms never write
 * into their input, they return a new image (or the input itself when they change nothing).
 */
public final class Image {
    private final int channels, height, width;
    private final float[] data;

    /** An image over {@code data} ({@code channels * height * width} values, shared). */
    public Image(int channels, int height, int width, float[] data) {
        if (channels < 1 || height < 1 || width < 1)
            throw new IllegalArgumentException("image size " + channels + "x" + height + "x" + width + " must be positive");
        if ((long) channels * height * width != Objects.requireNonNull(data, "data").length)
            throw new IllegalArgumentException(channels + "x" + height + "x" + width + " image needs " + (long) channels * height * width
                    + " values, " + data.length + " given");
        this.channels = channels;
        this.height = height;
        this.width = width;
        this.data = data;
    }

    /** An image of zeros. */
    public static Image zeros(int channels, int height, int width) {
        return new Image(channels, height, width, new float[Math.multiplyExact(Math.multiplyExact(channels, height), width)]);
    }

    /** Bytes {@code [offset, offset + C*H*W)} of {@code pixels} ({@code u8 [C, H, W]}) as {@code v / 255}. */
    public static Image ofBytes(int channels, int height, int width, byte[] pixels, int offset) {
        Image img = zeros(channels, height, width);
        float[] d = img.data;
        for (int p = 0; p < d.length; p++) d[p] = (pixels[offset + p] & 0xFF) / 255f;
        return img;
    }

    public int channels() { return channels; }

    public int height() { return height; }

    public int width() { return width; }

    /** {@code H * W}: the values per channel. */
    public int plane() { return height * width; }

    /** The pixel values, {@code [C, H, W]} row-major: the backing array, not a copy. */
    public float[] data() { return data; }

    /** The value of channel {@code c} at row {@code y}, column {@code x}. */
    public float get(int c, int y, int x) {
        return data[(Objects.checkIndex(c, channels) * height + Objects.checkIndex(y, height)) * width + Objects.checkIndex(x, width)];
    }

    /** Whether {@code other} has this image's size. */
    public boolean sameSize(Image other) {
        return channels == other.channels && height == other.height && width == other.width;
    }

    public Image copy() { return new Image(channels, height, width, data.clone()); }

    /** {@code CxHxW}. */
    public String sizeString() { return channels + "x" + height + "x" + width; }

    @Override public String toString() { return "Image " + sizeString(); }
}
