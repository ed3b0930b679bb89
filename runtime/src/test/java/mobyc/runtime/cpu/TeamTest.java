package mobyc.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** A team runs every item of every loop once, on its threads, rethrows failures and leaves the pool as it found it. */
class TeamTest {
    @Test
    void everyItemOfEveryJobRunsOnceAndTheHelpersTakeSome() {
        Set<Thread> ran = ConcurrentHashMap.newKeySet();
        AtomicIntegerArray counts = new AtomicIntegerArray(64 * 50);
        String result = Team.lead(true, () -> {
            assertEquals(CpuPool.threads() > 1 ? Team.Mode.TEAM : Team.Mode.POOL, Team.mode());
            for (int job = 0; job < 50; job++) {
                int base = job * 64;
                Team.run(64, i -> counts.incrementAndGet(base + i));
            }
            Team.run(16, i -> { // long items: a helper that has started takes some
                ran.add(Thread.currentThread());
                sleep(5);
            });
            return "done";
        });
        assertEquals("done", result);
        for (int i = 0; i < counts.length(); i++) assertEquals(1, counts.get(i), "item " + i);
        assertEquals(CpuPool.threads(), ran.size(), "threads that ran items: " + ran);
        assertEquals(Team.Mode.POOL, Team.mode(), "the team is down after its run");
    }

    @Test
    void loopsInsideAnItemRunSeriallyOnItsThread() {
        AtomicIntegerArray counts = new AtomicIntegerArray(8 * 8);
        Team.lead(true, () -> {
            Team.run(8, i -> {
                Thread t = Thread.currentThread();
                assertEquals(Team.Mode.SERIAL, Team.mode());
                Team.run(8, j -> {
                    assertSame(t, Thread.currentThread());
                    counts.incrementAndGet(i * 8 + j);
                });
                Parallel.forRange(1 << 20, 1, (from, to) -> assertSame(t, Thread.currentThread()));
            });
            return null;
        });
        for (int i = 0; i < counts.length(); i++) assertEquals(1, counts.get(i), "item " + i);
    }

    @Test
    void aFailureInAnyItemReachesTheLeaderAsItIs() {
        IllegalArgumentException boom = new IllegalArgumentException("item 13");
        for (int r = 0; r < 20; r++) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Team.lead(true, () -> {
                Team.run(32, i -> {
                    if (i == 13) throw boom;
                });
                return null;
            }));
            assertSame(boom, e);
        }
        assertEquals("after", Team.lead(true, () -> { // the failed runs left no team up
            Team.run(4, i -> {});
            return "after";
        }));
    }

    @Test
    void aRunWhoseTensorsTheWorkersMayNotTouchStaysOnItsThreadInsideATeam() {
        Set<Thread> ran = ConcurrentHashMap.newKeySet();
        Team.lead(true, () -> Team.lead(false, () -> {
            assertEquals(Team.Mode.SERIAL, Team.mode());
            Team.run(16, i -> ran.add(Thread.currentThread()));
            return null;
        }));
        assertEquals(Set.of(Thread.currentThread()), ran);
    }

    @Test
    void aSecondLeaderWhileATeamIsUpRunsWithoutOne() {
        AtomicReference<Team.Mode> seen = new AtomicReference<>();
        AtomicIntegerArray counts = new AtomicIntegerArray(32);
        Team.lead(true, () -> {
            Thread other = new Thread(() -> Team.lead(true, () -> {
                seen.set(Team.mode());
                Team.run(32, counts::incrementAndGet);
                return null;
            }));
            other.start();
            join(other);
            return null;
        });
        assertEquals(Team.Mode.POOL, seen.get());
        for (int i = 0; i < counts.length(); i++) assertEquals(1, counts.get(i), "item " + i);
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void join(Thread t) {
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
