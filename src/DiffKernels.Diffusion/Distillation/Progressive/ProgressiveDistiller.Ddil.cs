using DiffKernels.Diffusion.Distillation.Common;
using DiffKernels.Diffusion.Distillation.Ddil;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Distillation.Progressive;

// What DDIL needs of progressive distillation: the round's teacher as the expert, the round's student levels, and the
// student's deterministic Euler walk between them. The loss at an input and a step is the two-step target's regression.
public sealed partial class ProgressiveDistiller : IDdilBase
{
    /// <summary>DDIL's input draw, when the run trains on it.</summary>
    public DdilInputs? Ddil => _ddil;

    FrozenTeacher IDdilBase.Expert => Teacher;

    IReadOnlyList<double> IDdilBase.StudentLevels => Schedule.StudentLevels(Schedule.RoundAt(Step));

    bool IDdilBase.StudentRenoises => false;

    Tensor IDdilBase.StudentDenoise(Tensor x, double sigma, Tensor? labels)
    {
        using var noGrad = Tensor.NoGrad();
        return Teacher.Edm.Denoise(_studentNet, x, sigma, labels);
    }
}
