package mobyc.data;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import mobyc.compiler.ir.DType;
import mobyc.data.aug.Augment;
import mobyc.data.aug.Image;
import mobyc.runtime.Philox;
import mobyc.runtime.Tensor;

/**
 * Two augmented views of every image of an {@link ImageSource}, in mini-batches, prepared by a fixed pool of worker
 * threads while the caller trains.
 *
 * <p><b>Order.</b> Global step {@code s} is batch {@code s % batchesPerEpoch} of epoch {@code s / batchesPerEpoch}
 * ({@code batchesPerEpoch = size / batch}: a final partial batch is dropped). Epoch {@code e} visits the images in
 * the order {@link Batches} uses for the same seed (Fisher-Yates driven by Philox on {@code (seed, e)}), so a run
 * started at any step gives exactly what an uninterrupted run gives there.
 *
 * <p><b>Randomness.</b> View {@code v} (0 or 1) of image {@code i} in epoch {@code e} is drawn from its own
 * {@link SplittableRandom} ({@link #random}), seeded with 64 bits of the Philox block
 * {@code (seed, e, VIEW_STREAM + v, i)}: results depend on nothing else, not on threads, worker count or what ran
 * before.
 *
 * <p><b>Unreadable images</b> (a {@link DataException} from {@link ImageSource#read}) are skipped: the slot takes the
 * next image of the epoch order after the batch that is not already in it (wrapping around), trying candidates one
 * slot at a time in slot order, so the choice is the same in every run. Each unreadable image is logged once through
 * the {@code log} callback and counted ({@link #skipped()}); images known to be unreadable are not read again. When
 * more than half of a batch's own images are unreadable, {@link #next()} throws a {@link DataException}. Any other
 * exception (a bug in a transform, a view of the wrong size) is rethrown by {@code next()} as it is.
 *
 * <p><b>Use.</b> The constructor makes the worker pool (once); {@link #start} begins a run of batches at any global
 * step (called again, it stops the old run and begins a new one); {@link #next()} gives them in order. At most two
 * batches wait ready; a batch returned by {@code next()} is valid until the next {@code next()}, {@code start} or
 * {@link #close()} ({@link Batch#copy()} keeps one). Four batches of buffers exist at once: for {@code B = 128} RGB
 * 224x224 views that is 4 x 2 x 77 MB off-heap. {@code close()} stops the threads and waits for them; use
 * try-with-resources. {@code start}, {@code next} and {@code close} are for one thread.
 */
public final class TwoViewLoader implements AutoCloseable {
    /** The Philox stream of view 0's generators ("AUGV"); view 1 uses the next one. */
    public static final long VIEW_STREAM = 0x4155_4756L;

    private static final int READY = 2;
    /** Ready ones, the one the caller holds and the one being filled. */
    private static final int SLOTS = READY + 2;
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** What a task of a stopped run returns instead of running (compared by identity). */
    private static final String STOPPED = new String("stopped");

    /**
     * The batch of global step {@code step}: views {@code x1} and {@code x2}, {@code f32 [B, C, size, size]}, of the
     * images {@code indices} (positions in the source) with their {@code labels}. Its memory is reused.
     */
    public record Batch(long step, Tensor x1, Tensor x2, int[] indices, int[] labels) {
        /** The number of images, {@code B}. */
        public int size() { return indices.length; }

        /** A copy that stays valid whatever happens to the loader's buffers. */
        public Batch copy() { return new Batch(step, x1.copy(), x2.copy(), indices.clone(), labels.clone()); }
    }

    private sealed interface Item {}
    private record Ready(Slot slot, Batch batch) implements Item {}
    private record Failed(Throwable error) implements Item {}

    /** The buffers of one batch. */
    private static final class Slot {
        final Tensor x1, x2;
        final int[] indices, labels;

        Slot(int b, int c, int size) {
            x1 = Tensor.zeros(DType.F32, b, c, size, size);
            x2 = Tensor.zeros(DType.F32, b, c, size, size);
            indices = new int[b];
            labels = new int[b];
        }
    }

    private final ImageSource source;
    private final Augment view1, view2;
    private final int batch, size, channels, workers, batchesPerEpoch;
    private final long seed;
    private final Consumer<String> log;
    private final Object logLock = new Object();
    private final Set<Integer> unreadable = ConcurrentHashMap.newKeySet();
    private final List<Slot> slots = new ArrayList<>();
    private final ExecutorService pool;
    private Run run;
    private boolean closed;
    /** The producer's cache of the current epoch's order. */
    private long orderEpoch = -1;
    private int[] order;

    /** One run of batches from {@code first} on: its producer thread and queues. */
    private final class Run {
        final long first, count;
        final BlockingQueue<Item> ready = new ArrayBlockingQueue<>(READY);
        final BlockingQueue<Slot> free = new ArrayBlockingQueue<>(SLOTS);
        final Thread thread;
        volatile boolean stopped;
        Slot held;
        long taken;
        boolean failed;

        Run(long first, long count) {
            this.first = first;
            this.count = count;
            free.addAll(slots);
            thread = Thread.ofPlatform().name("mobyc-two-views").daemon().unstarted(this::produce);
        }

        private void produce() {
            try {
                for (long k = 0; k < count && !stopped; k++) {
                    Slot slot = free.take();
                    ready.put(new Ready(slot, fill(this, first + k, slot)));
                }
            } catch (InterruptedException e) {
                // stopped
            } catch (Throwable t) {
                try {
                    ready.put(new Failed(t));
                } catch (InterruptedException e) {
                    // stopped
                }
            }
        }

        void stop() {
            stopped = true;
            thread.interrupt();
            boolean interrupted = false;
            while (true) {
                try {
                    thread.join();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) Thread.currentThread().interrupt();
        }
    }

    /**
     * A loader of {@code batch} images per step with the views {@code views.view1()} and {@code views.view2()} at
     * their size ({@link Augment#size()}); see the full constructor.
     */
    public TwoViewLoader(ImageSource source, Augment.Views views, int batch, long seed, int workers, Consumer<String> log) {
        this(source, views.view1(), views.view2(), batch, views.view1().size(), seed, workers, log);
    }

    /**
     * A loader of {@code batch} images per step from {@code source}, views {@code view1} and {@code view2} of
     * {@code size x size}, everything random drawn from {@code seed}; {@code workers} threads ({@code <= 0}:
     * {@link #defaultWorkers()}); warnings to {@code log}, one line each, called from worker threads one at a time
     * ({@code null}: nowhere). Nothing is read before {@link #start}.
     */
    public TwoViewLoader(ImageSource source, Augment view1, Augment view2, int batch, int size, long seed, int workers,
            Consumer<String> log) {
        this.source = Objects.requireNonNull(source, "source");
        this.view1 = Objects.requireNonNull(view1, "view1");
        this.view2 = Objects.requireNonNull(view2, "view2");
        if (batch < 1) throw new IllegalArgumentException("batch size " + batch + " must be at least 1");
        if (size < 1) throw new IllegalArgumentException("view size " + size + " must be positive");
        for (Augment a : List.of(view1, view2))
            if (a.size() != 0 && a.size() != size)
                throw new IllegalArgumentException(a.name() + " makes " + a.size() + "x" + a.size() + " views, not " + size + "x" + size);
        this.batch = batch;
        this.size = size;
        this.channels = source.channels();
        this.workers = workers > 0 ? workers : defaultWorkers();
        this.seed = seed;
        this.log = log != null ? log : line -> {};
        this.batchesPerEpoch = source.size() / batch;
        if (batchesPerEpoch == 0)
            throw new IllegalArgumentException(source.source() + ": " + source.size() + " images make no batch of " + batch);
        for (int i = 0; i < SLOTS; i++) slots.add(new Slot(batch, channels, size));
        pool = Executors.newFixedThreadPool(this.workers, Thread.ofPlatform().name("mobyc-aug-", 0).daemon().factory());
    }

    /** {@code min(4, available processors)}. */
    public static int defaultWorkers() { return Math.min(4, Runtime.getRuntime().availableProcessors()); }

    /**
     * Begins giving {@code count} batches ({@code Long.MAX_VALUE}: no end) from global step {@code firstStep} on, in
     * the background. A run already going is stopped first and its batches become invalid.
     */
    public void start(long firstStep, long count) {
        if (closed) throw new IllegalStateException("the loader is closed");
        if (firstStep < 0 || count < 0) throw new IllegalArgumentException("first step " + firstStep + " and count " + count + " must be >= 0");
        if (run != null) run.stop();
        run = new Run(firstStep, count);
        run.thread.start();
    }

    public ImageSource source() { return source; }

    public int batchSize() { return batch; }

    /** The height and width of the views. */
    public int size() { return size; }

    public int channels() { return channels; }

    public int workers() { return workers; }

    public long seed() { return seed; }

    /** Full batches per epoch: {@code source.size() / batch}. */
    public int batchesPerEpoch() { return batchesPerEpoch; }

    /** The number of distinct unreadable images met so far. */
    public int skipped() { return unreadable.size(); }

    /** The order in which epoch {@code epoch} visits the source: a permutation of {@code [0, size)}. */
    public int[] order(long epoch) { return Batches.permutation(seed, epoch, source.size()); }

    /** The generator of view {@code view} (0 or 1) of image {@code index} in epoch {@code epoch}. */
    public static SplittableRandom random(long seed, long epoch, int index, int view) {
        int[] block = Philox.block(seed, epoch, VIEW_STREAM + view, index);
        return new SplittableRandom(((long) block[0] << 32) | (block[1] & 0xFFFF_FFFFL));
    }

    /**
     * Fills the batch of global step {@code step} into {@code slot}, on the run's thread. Every task given to the pool
     * is waited for, even when the run is stopped, so that no worker writes into a slot after its run ended.
     */
    private Batch fill(Run r, long step, Slot slot) throws InterruptedException {
        long epoch = step / batchesPerEpoch;
        int start = (int) (step % batchesPerEpoch) * batch, n = source.size();
        int[] ord = orderOf(epoch), idx = slot.indices;
        System.arraycopy(ord, start, idx, 0, batch);
        List<Future<String>> futures = new ArrayList<>(batch);
        for (int s = 0; s < batch; s++) {
            int at = s, index = idx[s];
            futures.add(pool.submit(() -> r.stopped ? STOPPED : sample(epoch, index, at, slot)));
        }
        String[] problems = awaitAll(futures);
        List<Integer> bad = new ArrayList<>();
        for (int s = 0; s < batch; s++) if (problems[s] != null) bad.add(s);
        if (2 * bad.size() > batch)
            throw new DataException(source.source(), bad.size() + " of the " + batch + " images of step " + step
                    + " are unreadable, more than half; the first: " + problems[bad.getFirst()]);
        // replacements, one slot at a time in slot order: the next image of the order after the batch, not in it
        Set<Integer> inBatch = new HashSet<>();
        for (int i : idx) inBatch.add(i);
        long cursor = start + batch, looked = 0;
        for (int s : bad) {
            while (true) {
                if (looked++ >= n)
                    throw new DataException(source.source(), "no readable image left to replace the unreadable ones of step " + step);
                int candidate = ord[(int) (cursor++ % n)], at = s;
                if (!inBatch.add(candidate)) continue;
                idx[s] = candidate;
                if (awaitAll(List.of(pool.submit(() -> r.stopped ? STOPPED : sample(epoch, candidate, at, slot))))[0] == null) break;
            }
        }
        return new Batch(step, slot.x1, slot.x2, idx, slot.labels);
    }

    /**
     * The results of all {@code futures}, waiting for every one even when interrupted; then throws the first task's
     * exception, or {@link InterruptedException} when interrupted or stopped.
     */
    private static String[] awaitAll(List<Future<String>> futures) throws InterruptedException {
        String[] results = new String[futures.size()];
        boolean interrupted = false;
        Throwable error = null;
        for (int k = 0; k < results.length; k++) {
            while (true) {
                try {
                    results[k] = futures.get(k).get();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (ExecutionException e) {
                    if (error == null) error = e.getCause();
                    break;
                }
            }
            if (results[k] == STOPPED) interrupted = true;
        }
        if (interrupted) throw new InterruptedException("stopped");
        if (error instanceof RuntimeException e) throw e;
        if (error instanceof Error e) throw e;
        if (error != null) throw new IllegalStateException("augmenting an image failed", error);
        return results;
    }

    /**
     * Reads image {@code index} and writes its two views and label at position {@code s} of {@code slot}; returns
     * {@code null} when done, or what is wrong when the image is unreadable.
     */
    private String sample(long epoch, int index, int s, Slot slot) {
        if (unreadable.contains(index)) return "image " + index + " is unreadable";
        Image img;
        try {
            img = source.read(index);
        } catch (DataException e) {
            if (unreadable.add(index)) {
                synchronized (logLock) {
                    log.accept("warning: skipping unreadable image " + index + ": " + e.getMessage());
                }
            }
            return e.getMessage();
        }
        write(view1, view1.apply(img, random(seed, epoch, index, 0)), slot.x1, s, index);
        write(view2, view2.apply(img, random(seed, epoch, index, 1)), slot.x2, s, index);
        slot.labels[s] = source.label(index);
        return null;
    }

    private void write(Augment view, Image img, Tensor into, int s, int index) {
        if (img.channels() != channels || img.height() != size || img.width() != size)
            throw new IllegalStateException(view.name() + " made a " + img.sizeString() + " view of image " + index + ", expected "
                    + channels + "x" + size + "x" + size);
        int per = img.data().length;
        MemorySegment.copy(img.data(), 0, into.segment(), F32, (long) s * per * Tensor.ELEMENT_BYTES, per);
    }

    private int[] orderOf(long epoch) {
        if (epoch != orderEpoch) {
            order = Batches.permutation(seed, epoch, source.size());
            orderEpoch = epoch;
        }
        return order;
    }

    /** Whether {@link #next()} has a batch to give (or an error to throw) in the current run. */
    public boolean hasNext() { return !closed && run != null && !run.failed && run.taken < run.count; }

    /** The next batch of the run, waiting for the workers if need be; valid until the next {@code next()}, {@code start} or {@code close()}. */
    public Batch next() {
        if (closed) throw new IllegalStateException("the loader is closed");
        if (run == null) throw new IllegalStateException("the loader was not started: call start(firstStep, count)");
        if (!hasNext()) throw new NoSuchElementException(run.failed ? "the run failed" : "all " + run.count + " batches were taken");
        if (run.held != null) {
            run.free.add(run.held);
            run.held = null;
        }
        Item item;
        try {
            item = run.ready.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a batch", e);
        }
        return switch (item) {
            case Ready r -> {
                run.held = r.slot();
                run.taken++;
                yield r.batch();
            }
            case Failed f -> {
                run.failed = true;
                if (f.error() instanceof RuntimeException e) throw e;
                if (f.error() instanceof Error e) throw e;
                throw new IllegalStateException("preparing a batch failed", f.error());
            }
        };
    }

    /** Stops the run and the workers and waits for them; the batches given become invalid. Idempotent. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        if (run != null) run.stop();
        pool.shutdownNow();
        boolean interrupted = false;
        while (true) {
            try {
                if (pool.awaitTermination(1, TimeUnit.MINUTES)) break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
    }

    @Override public String toString() {
        return "two views of " + source.source() + ": batch " + batch + ", " + channels + "x" + size + "x" + size + ", " + workers
                + " workers, seed " + seed + "\n  " + view1 + "\n  " + view2;
    }
}
