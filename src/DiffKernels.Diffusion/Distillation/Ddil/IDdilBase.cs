using DiffKernels.Diffusion.Distillation.Common;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Distillation.Ddil;

/// <summary>
/// What a base distillation exposes so that DDIL can choose its training inputs. A base trains a K-step student
/// with a loss at an input x and a student step k (its σ_k); by itself it draws x one way (progressive distillation:
/// forward-diffused data; DMD2: backward simulation). Under DDIL its iteration draws the steps k as before, asks
/// <see cref="DdilInputs.Draw"/> for the inputs x at them, and applies its own loss there. For the rollouts DDIL needs
/// only the members below.
/// </summary>
/// <remarks>
/// A third base, such as a multistep consistency model, would implement: <see cref="StudentLevels"/>, its K sampling
/// levels; <see cref="StudentRenoises"/> true (multistep consistency sampling re-noises each estimate with fresh
/// noise); <see cref="StudentDenoise"/>, its consistency function f(x, σ); <see cref="Expert"/>, the teacher whose ODE
/// it distils; and, in its own iteration, the consistency loss at the drawn x and σ_k (f at x against the target
/// network at the teacher's one ODE step from x towards the next grid level).
/// </remarks>
public interface IDdilBase
{
    /// <summary>The expert whose rollouts are a source (for progressive distillation, the current round's teacher).</summary>
    FrozenTeacher Expert { get; }

    /// <summary>The student's levels σ_1 &gt; … &gt; σ_K at the current iteration.</summary>
    IReadOnlyList<double> StudentLevels { get; }

    /// <summary>
    /// How the student's sampler moves from σ_k to σ_k+1 given its x0 estimate D: true, D plus σ_k+1 times fresh noise
    /// (DMD2's walk); false, the deterministic Euler step D + (σ_k+1/σ_k)·(x − D) (progressive distillation's).
    /// </summary>
    bool StudentRenoises { get; }

    /// <summary>The student's x0 estimate at <paramref name="x"/> and level <paramref name="sigma"/>, with no graph.</summary>
    Tensor StudentDenoise(Tensor x, double sigma, Tensor? labels);
}
