package mobyc.data;

import java.util.NoSuchElementException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import mobyc.data.Batches.Batch;

/**
 * Prepares the next batches on one background thread while the caller trains on the current one. It walks global
 * steps {@code firstStep, firstStep + 1, ...} ({@code step = epoch * batchesPerEpoch + index}) across epoch
 * boundaries and yields exactly what {@link Batches#get} would, in order.
 *
 * <p>At most two batches wait ready; a batch returned by {@link #next()} is valid until the next call to
 * {@code next()} or {@link #close()}. An exception on the worker is rethrown by the {@code next()} that would have
 * returned the batch. {@code close()} stops and joins the worker; use try-with-resources.
 */
public final class Prefetcher implements AutoCloseable {
    private static final int READY = 2;
    /** Ready ones, the one the caller holds and the one being filled. */
    private static final int SLOTS = READY + 2;

    private sealed interface Item {}
    private record Ready(Batches.Buffers slot, Batch batch) implements Item {}
    private record Failed(Throwable error) implements Item {}

    /** Fills the batch of one global step into a slot's buffers. */
    @FunctionalInterface
    interface Filler {
        Batch fill(long step, Batches.Buffers slot);
    }

    private final Filler filler;
    private final long firstStep, count;
    private final BlockingQueue<Item> ready = new ArrayBlockingQueue<>(READY);
    private final BlockingQueue<Batches.Buffers> free = new ArrayBlockingQueue<>(SLOTS);
    private final Thread worker;
    private Batches.Buffers held;
    private long taken;
    private boolean failed;
    private volatile boolean closed;

    /** Every batch of epoch {@code epoch}, in order. */
    public Prefetcher(Batches batches, long epoch) {
        this(batches, epoch * batches.batchesPerEpoch(), batches.batchesPerEpoch());
    }

    /** {@code count} batches from global step {@code firstStep} on, crossing epochs as needed. */
    public Prefetcher(Batches batches, long firstStep, long count) {
        this(firstStep, count, fillerOf(batches));
    }

    private static Filler fillerOf(Batches batches) {
        int perEpoch = batches.batchesPerEpoch();
        return (step, slot) -> {
            if (perEpoch == 0) throw new IllegalStateException("no batches to prefetch: the data set gives 0 batches per epoch");
            return batches.fill(step / perEpoch, (int) (step % perEpoch), slot);
        };
    }

    Prefetcher(long firstStep, long count, Filler filler) {
        if (firstStep < 0 || count < 0) throw new IllegalArgumentException("first step " + firstStep + " and count " + count + " must be >= 0");
        this.filler = filler;
        this.firstStep = firstStep;
        this.count = count;
        for (int i = 0; i < SLOTS; i++) free.add(new Batches.Buffers());
        worker = Thread.ofPlatform().name("mobyc-prefetch").daemon().unstarted(this::work);
        worker.start();
    }

    private void work() {
        try {
            for (long k = 0; k < count && !closed; k++) {
                Batches.Buffers slot = free.take();
                Batch b = filler.fill(firstStep + k, slot);
                ready.put(new Ready(slot, b));
            }
        } catch (InterruptedException e) {
            // closed
        } catch (Throwable t) {
            try {
                ready.put(new Failed(t));
            } catch (InterruptedException e) {
                // closed
            }
        }
    }

    /** Whether {@link #next()} has a batch to give (or an error to throw). */
    public boolean hasNext() { return !closed && !failed && taken < count; }

    /** The next batch, waiting for the worker if need be; valid until the next {@code next()} or {@code close()}. */
    public Batch next() {
        if (closed) throw new IllegalStateException("the prefetcher is closed");
        if (!hasNext()) throw new NoSuchElementException("all " + count + " batches were taken");
        if (held != null) {
            free.add(held);
            held = null;
        }
        Item item;
        try {
            item = ready.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a batch", e);
        }
        return switch (item) {
            case Ready r -> {
                held = r.slot();
                taken++;
                yield r.batch();
            }
            case Failed f -> {
                failed = true;
                if (f.error() instanceof RuntimeException e) throw e;
                if (f.error() instanceof Error e) throw e;
                throw new IllegalStateException("preparing a batch failed", f.error());
            }
        };
    }

    boolean workerAlive() { return worker.isAlive(); }

    /** Stops the worker and waits for it; the batches it gave become invalid. Idempotent. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        worker.interrupt();
        boolean interrupted = false;
        while (true) {
            try {
                worker.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
    }
}
