namespace DiffKernels;

/// <summary>
/// Input the library cannot use: a malformed or mismatched file, an argument out of range, a device the machine does
/// not have. The message is one line that starts with <see cref="Subject"/> (the file or the argument) and says what
/// was expected; catch this type to report the caller's mistakes apart from the library's own failures.
/// </summary>
public class InvalidInputException : Exception
{
    /// <summary>Creates the exception for <paramref name="subject"/> (a file path or an argument name) and its <paramref name="problem"/>.</summary>
    public InvalidInputException(string subject, string problem, Exception? inner = null)
        : base($"{subject}: {problem}".ReplaceLineEndings(" "), inner)
    {
        Subject = subject;
        Problem = problem;
    }

    /// <summary>The file or argument at fault.</summary>
    public string Subject { get; }

    /// <summary>What is wrong, without the subject.</summary>
    public string Problem { get; }
}
