package mobyc.runtime.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

class LrScheduleTest {
    @Test
    void linearScalingByTheGlobalBatchOver512() {
        assertEquals(1e-3, LrSchedule.scaled(1e-3, 512));
        assertEquals(2e-3, LrSchedule.scaled(1e-3, 1024));
        assertEquals(0.5, LrSchedule.scaled(1.0, 256));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.scaled(1e-3, 0));
    }

    /** schedule.json: a transcription of timm's CosineLRScheduler._get_lr run in Python, per step, past the end. */
    @Test
    void matchesTimmValuesComputedInPython() {
        JsonNode configs = Goldens.readJson("schedule.json");
        assertEquals(3, configs.size());
        double worst = 0;
        for (JsonNode c : configs) {
            int batch = c.get("batch").asInt();
            double lrMax = LrSchedule.scaled(c.get("base_lr").asDouble(), batch);
            double warmup = LrSchedule.scaled(c.get("warmup_lr").asDouble(), batch);
            double min = LrSchedule.scaled(c.get("min_lr").asDouble(), batch);
            assertEquals(c.get("lr_max").asDouble(), lrMax);
            assertEquals(c.get("scaled_warmup_lr").asDouble(), warmup);
            assertEquals(c.get("scaled_min_lr").asDouble(), min);
            LrSchedule s = LrSchedule.warmupCosine(lrMax, warmup, min, c.get("warmup_steps").asLong(), c.get("total_steps").asLong());
            JsonNode lrs = c.get("lrs");
            for (int t = 0; t < lrs.size(); t++) {
                double expected = lrs.get(t).asDouble();
                // Java's Math.cos and the C library's may differ in the last bit
                assertEquals(expected, s.at(t), 1e-15 * lrMax, c.get("name").asText() + " step " + t);
                worst = Math.max(worst, Math.abs(expected - s.at(t)) / lrMax);
            }
        }
        if (Boolean.getBoolean("optim.report")) System.out.printf("schedule: max relative diff vs timm %.3g%n", worst);
    }

    @Test
    void followsTheReferenceFormula() {
        double lrMax = 1e-3, warmup = 5e-7, min = 5e-6;
        long w = 10, total = 100;
        LrSchedule s = LrSchedule.warmupCosine(lrMax, warmup, min, w, total);
        assertEquals(warmup, s.at(0));
        for (long t = 0; t < w; t++) assertEquals(warmup + t * (lrMax - warmup) / w, s.at(t), 1e-18);
        for (long t = w; t < total; t++)
            assertEquals(min + 0.5 * (lrMax - min) * (1 + Math.cos(Math.PI * t / total)), s.at(t));
        for (long t = w + 1; t < total; t++) assertTrue(s.at(t) < s.at(t - 1));
        assertEquals(min, s.at(total));
        assertEquals(min, s.at(10 * total));
        assertThrows(IllegalArgumentException.class, () -> s.at(-1));
    }

    @Test
    void withoutWarmupTheCosineStartsAtTheMaximum() {
        LrSchedule s = LrSchedule.warmupCosine(0.5, 0, 0, 0, 12);
        assertEquals(0.5, s.at(0));
        assertEquals(0.25, s.at(6), 1e-16);
    }

    @Test
    void constant() {
        LrSchedule s = LrSchedule.constant(0.1);
        assertEquals(0.1, s.at(0));
        assertEquals(0.1, s.at(1_000_000));
    }

    @Test
    void rejectsBadConfigurations() {
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.warmupCosine(1e-3, 0, 0, 5, 0));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.warmupCosine(1e-3, 0, 0, 11, 10));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.warmupCosine(Double.NaN, 0, 0, 1, 10));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.constant(-1));
    }
}
