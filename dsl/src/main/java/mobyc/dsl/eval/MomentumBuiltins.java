package mobyc.dsl.eval;

import java.util.LinkedHashMap;
import java.util.Map;
import mobyc.dsl.diag.Pos;
import mobyc.dsl.eval.Value.*;

/**
 * Momentum (EMA) targets, as MoBY, MoCo, BYOL and DINO keep them: {@code let encoder_k = ema_copy(encoder,
 * drop_path_rate=0.0);} makes a second instance of a module whose parameters are state that starts as a copy of
 * the original's, and {@code ema_update(encoder_k, encoder, m);} updates every copy to
 * {@code m * copy + (1 - m) * param} (detached) in one statement.
 */
final class MomentumBuiltins {
    private MomentumBuiltins() {}

    static void register() {
        Builtins.register("ema_copy", (a, c) -> {
            if (a.positional().size() != 1 || !(a.positional().getFirst() instanceof ModuleV m))
                throw new EvalError(c.pos(), "ema_copy takes one module and hyper-parameter overrides by name: ema_copy(encoder, drop_path_rate=0.0)");
            Map<String, Pos> at = new LinkedHashMap<>(a.namedPos());
            return new ModuleV(c.el().emaCopy(m.instance(), new LinkedHashMap<>(a.named()), at, c.pos()));
        });
        Builtins.register("ema_update", (a, c) -> {
            var m = a.bind("ema_update", "target", "online", "momentum");
            if (!(m.get("target") instanceof ModuleV t) || !(m.get("online") instanceof ModuleV o))
                throw new EvalError(c.pos(), "ema_update(target, online, momentum) takes two modules, the copy first");
            Value mom = m.get("momentum");
            if (!(mom instanceof TensorV tv && tv.node().shape().rank() == 0) && !Ops.isNumber(mom))
                throw new EvalError(c.pos(), "ema_update: momentum must be a number or a scalar tensor [], got " + mom.typeName()
                        + (mom instanceof TensorV tv2 ? " " + tv2.node().shape() : ""));
            c.el().emaUpdate(t.instance(), o.instance(), mom, c.pos());
            return Value.NONE;
        });
    }
}
