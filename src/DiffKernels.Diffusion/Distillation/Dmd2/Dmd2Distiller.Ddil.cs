using DiffKernels.Diffusion.Distillation.Common;
using DiffKernels.Diffusion.Distillation.Ddil;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Distillation.Dmd2;

// What DDIL needs of DMD2: the teacher as the expert, the student's fixed levels and its re-noising walk between them.
// The loss at an input and a step is DMD2's own: the distribution-matching gradient at the student's estimate there.
public sealed partial class Dmd2Distiller : IDdilBase
{
    /// <summary>DDIL's input draw, when the run trains on it.</summary>
    public DdilInputs? Ddil => _ddil;

    FrozenTeacher IDdilBase.Expert => Teacher;

    IReadOnlyList<double> IDdilBase.StudentLevels => Student.Levels;

    bool IDdilBase.StudentRenoises => true;

    Tensor IDdilBase.StudentDenoise(Tensor x, double sigma, Tensor? labels)
    {
        using var noGrad = Tensor.NoGrad();
        return Student.Edm.Denoise(Student.Net, x, sigma, labels);
    }
}
