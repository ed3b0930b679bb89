package mobyc.compiler.autodiff;

import java.util.List;
import mobyc.compiler.ir.GraphBuilder;
import mobyc.compiler.ir.Node;

/**
 * A vector-Jacobian rule: given the forward node {@code y} (already in the graph being built, with its operands)
 * and the gradient {@code g} of the loss with respect to it, the gradients with respect to each operand, in
 * operand order; null for an operand that takes no gradient (integers, indices, statistics of a no-grad path).
 */
@FunctionalInterface
interface Vjp {
    List<Node> apply(GraphBuilder b, Node y, Node g);
}
