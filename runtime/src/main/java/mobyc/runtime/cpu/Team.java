package mobyc.runtime.cpu;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;
import java.util.function.Supplier;

/**
 * The threads of one program run, kept awake between its kernels. Handing a kernel's parts to a pool worker that
 * went to sleep costs its wake-up, and then the caller's own on the join: on this 2-vCPU VM a fork is picked up
 * 13 us later after a short idle and 80-90 us later after a millisecond, and a small32 step has some 600
 * parallel kernels. While a team is up, the thread running the program leads it: each parallel loop is posted as a
 * job whose items the leader and the helpers (pool workers) take in turn from a counter, and the leader waits for
 * the last by spinning. Between jobs the helpers spin too, and park only after {@link #SPIN_NANOS} without one
 * (a serial stretch), to be unparked by the next job.
 * <p>Loops called from inside a job (a helper's item, or the leader's) run serially on that thread: the team is
 * already busy with the loop around them. Only one team is up at a time; a run that finds it taken, or has one
 * thread, or uses tensors the workers may not touch, runs without one and its loops go to the pool as before.
 */
public final class Team {
    /** {@code -Dmobyc.team=false} runs programs without teams (read at every run, so a harness can flip it). */
    public static final String PROPERTY = "mobyc.team";
    /** How long a helper spins without a job before it parks. */
    static final long SPIN_NANOS = 1_000_000;

    private static final AtomicBoolean UP = new AtomicBoolean();
    private static final ThreadLocal<Member> MEMBER = new ThreadLocal<>();

    /** A thread's place in the team: whether it leads, and whether it is inside a job's item now. */
    private static final class Member {
        final Team team;
        final boolean leader;
        boolean busy;

        Member(Team team, boolean leader) {
            this.team = team;
            this.leader = leader;
        }
    }

    /** One parallel loop: items taken from {@code next}, counted into {@code done}; the first failure kept. */
    private static final class Job {
        final int items;
        final IntConsumer body;
        final AtomicInteger next = new AtomicInteger(), done = new AtomicInteger();
        volatile Throwable failure;

        Job(int items, IntConsumer body) {
            this.items = items;
            this.body = body;
        }

        void drain(Member m) {
            m.busy = true;
            try {
                for (int i; (i = next.getAndIncrement()) < items; ) {
                    try {
                        body.accept(i);
                    } catch (Throwable e) {
                        if (failure == null) failure = e;
                    }
                    done.incrementAndGet();
                }
            } finally {
                m.busy = false;
            }
        }
    }

    /** The helpers' threads, each written by the helper before it first counts itself in {@link #sleeping}. */
    private final Thread[] helpers;
    private volatile Job job;
    private volatile boolean closed;
    /** Helpers parked or about to park: the leader reads it after posting a job (or closing) and unparks them. */
    private final AtomicInteger sleeping = new AtomicInteger();

    private Team(int helpers) { this.helpers = new Thread[helpers]; }

    /** Unparks the helpers that may be parked (reading {@link #sleeping} first makes their threads visible). */
    private void wake() {
        if (sleeping.get() == 0) return;
        for (Thread t : helpers) if (t != null) LockSupport.unpark(t);
    }

    /**
     * Runs {@code body} on the calling thread as the leader of a team of the pool's other workers, when
     * {@code eligible}, there is more than one thread and no other team is up; else just runs it.
     */
    public static <T> T lead(boolean eligible, Supplier<T> body) {
        int threads = CpuPool.threads();
        if ("false".equals(System.getProperty(PROPERTY))) eligible = false;
        Member within = MEMBER.get();
        if (within != null && !eligible && !within.busy) { // inside a team's run, but its helpers may not help here
            within.busy = true;
            try {
                return body.get();
            } finally {
                within.busy = false;
            }
        }
        if (!eligible || threads <= 1 || within != null || !UP.compareAndSet(false, true)) return body.get();
        Team team = new Team(threads - 1);
        List<ForkJoinTask<?>> started = new ArrayList<>(threads - 1);
        MEMBER.set(new Member(team, true));
        try {
            for (int h = 0; h < threads - 1; h++) {
                int index = h;
                started.add(CpuPool.pool().submit(() -> team.help(index)));
            }
            return body.get();
        } finally {
            team.closed = true;
            team.wake();
            for (ForkJoinTask<?> f : started) f.join();
            MEMBER.remove();
            UP.set(false);
        }
    }

    /**
     * How a loop of the calling thread should run: {@link Mode#TEAM} on its team ({@link #forEach}), {@link Mode#SERIAL}
     * inside a job, {@link Mode#POOL} with no team (the pool's own tasks).
     */
    public enum Mode { TEAM, SERIAL, POOL }

    public static Mode mode() {
        Member m = MEMBER.get();
        if (m == null) return Mode.POOL;
        return m.leader && !m.busy ? Mode.TEAM : Mode.SERIAL;
    }

    /**
     * Runs {@code body} for items [0, n) on the calling thread's team, the leader taking items too; returns when
     * every item is done, rethrowing the first failure. Only for {@link Mode#TEAM}.
     */
    public static void forEach(int n, IntConsumer body) {
        Member m = MEMBER.get();
        Team team = m.team;
        Job j = new Job(n, body);
        team.job = j;
        team.wake();
        j.drain(m);
        while (j.done.get() < n) Thread.onSpinWait();
        Throwable f = j.failure;
        if (f instanceof RuntimeException e) throw e;
        if (f instanceof Error e) throw e;
        if (f != null) throw new IllegalStateException(f);
    }

    /** Runs {@code body} for items [0, n): on the team, serially, or on the pool as it comes. */
    public static void run(int n, IntConsumer body) {
        if (n <= 0) return;
        switch (n == 1 ? Mode.SERIAL : mode()) {
            case TEAM -> forEach(n, body);
            case SERIAL -> {
                for (int i = 0; i < n; i++) body.accept(i);
            }
            case POOL -> {
                List<ForkJoinTask<?>> tasks = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    int item = i;
                    tasks.add(ForkJoinTask.adapt(() -> body.accept(item)));
                }
                if (ForkJoinTask.inForkJoinPool()) ForkJoinTask.invokeAll(tasks);
                else CpuPool.pool().invoke(ForkJoinTask.adapt(() -> ForkJoinTask.invokeAll(tasks)));
            }
        }
    }

    /** A helper's life: take each new job's items, spin while jobs come, park when they stop, leave when closed. */
    private void help(int index) {
        helpers[index] = Thread.currentThread();
        Member m = new Member(this, false);
        MEMBER.set(m);
        try {
            Job last = null;
            long idleSince = System.nanoTime();
            while (!closed) {
                Job j = job;
                if (j != last) {
                    last = j;
                    j.drain(m);
                    idleSince = System.nanoTime();
                } else if (System.nanoTime() - idleSince < SPIN_NANOS) {
                    Thread.onSpinWait();
                } else {
                    sleeping.incrementAndGet(); // then read job and closed: the leader writes them, then reads this
                    if (job == last && !closed) LockSupport.park(this);
                    sleeping.decrementAndGet();
                    idleSince = System.nanoTime();
                }
            }
        } finally {
            MEMBER.remove();
        }
    }
}
