package mobyc.dsl.eval;

import java.util.List;
import java.util.stream.Collectors;
import mobyc.compiler.ir.Dim;
import mobyc.compiler.ir.Node;
import mobyc.dsl.ast.Decl;

/** Values the elaborator computes with: compile-time scalars, lists, dimensions, modules, functions and tensors. */
public sealed interface Value {
    String typeName();

    record IntV(long v) implements Value {
        public String typeName() { return "int"; }
        @Override public String toString() { return Long.toString(v); }
    }
    record FloatV(double v) implements Value {
        public String typeName() { return "float"; }
        @Override public String toString() { return mobyc.compiler.ir.Fmt.num(v); }
    }
    record BoolV(boolean v) implements Value {
        public String typeName() { return "bool"; }
        @Override public String toString() { return Boolean.toString(v); }
    }
    record StrV(String v) implements Value {
        public String typeName() { return "str"; }
        @Override public String toString() { return "\"" + v + "\""; }
    }
    /** A size known only as a polynomial over symbolic dimensions (the batch B, ...). */
    record DimV(Dim d) implements Value {
        public String typeName() { return "int"; }
        @Override public String toString() { return d.toString(); }
    }
    record ListV(List<Value> items) implements Value {
        public ListV { items = List.copyOf(items); }
        public String typeName() { return "list"; }
        @Override public String toString() { return items.stream().map(Object::toString).collect(Collectors.joining(", ", "[", "]")); }
    }
    record TensorV(Node node) implements Value {
        public String typeName() { return "tensor " + node.dtype() + node.shape(); }
        @Override public String toString() { return typeName(); }
    }
    record ModuleV(ModuleInstance instance) implements Value {
        public String typeName() { return "module " + instance.decl().name(); }
        @Override public String toString() { return instance.decl().name() + (instance.path().isEmpty() ? "" : " at " + instance.path()); }
    }
    /** A function: top-level (self null) or bound to a module instance. */
    record FnV(Decl.Fn fn, ModuleInstance self) implements Value {
        public String typeName() { return "function"; }
        @Override public String toString() { return "fn " + fn.name(); }
    }
    /**
     * A module declaration (with the hyper-parameters an alias fixes), callable with named hyper-parameters. An
     * alias's arguments that create modules are {@code deferred}: they are evaluated at each instantiation, so the
     * module they make is named under the instance ({@code encoder.layers.0...}).
     */
    record ModuleTypeV(Decl.Module decl, java.util.Map<String, Value> preset, java.util.Map<String, mobyc.dsl.ast.Expr> deferred) implements Value {
        public ModuleTypeV(Decl.Module decl, java.util.Map<String, Value> preset) { this(decl, preset, java.util.Map.of()); }
        public String typeName() { return "module type"; }
        @Override public String toString() { return "module " + decl.name(); }
    }
    record BuiltinV(String name) implements Value {
        public String typeName() { return "builtin"; }
        @Override public String toString() { return name; }
    }
    record NoneV() implements Value {
        public String typeName() { return "nothing"; }
        @Override public String toString() { return "nothing"; }
    }
    /** The result of an expression that already produced a diagnostic; every use of it is silent. */
    record ErrorV() implements Value {
        public String typeName() { return "error"; }
    }

    Value NONE = new NoneV();
    Value ERROR = new ErrorV();

    static Value ofDim(Dim d) { return d.isConstant() ? new IntV(d.constant()) : new DimV(d); }
}
