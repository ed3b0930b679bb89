package mobyc.dsl.ast;

import java.util.List;
import mobyc.dsl.diag.Pos;

/** Declared types of hyper-parameters, function parameters and results. */
public sealed interface TypeRef {
    Pos pos();

    /** int, float, bool or str. */
    record Scalar(Pos pos, String name) implements TypeRef {}
    record ListOf(Pos pos, TypeRef element) implements TypeRef {}
    record ModuleRef(Pos pos) implements TypeRef {}
    record Tuple(Pos pos, List<TypeRef> items) implements TypeRef {}
    /** A tensor type: dtype (null for f32) and dimension patterns; a null entry in dims stands for '...'. */
    record Tensor(Pos pos, String dtype, List<Expr> dims) implements TypeRef {}
}
