global using DiffKernels.Tests.Support;
