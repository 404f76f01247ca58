namespace LuaActors.Messages;

/// <summary>
/// The grammar of a VM id, checked here and nowhere else (the C# API, the HTTP API, the CLI and
/// the actors all ask this class): 1 to 128 characters among ASCII letters, digits, '.', '_'
/// and '-', the first a letter, digit or '_'. So an id is one URL path segment that no client
/// or server rewrites ('.' and '..' are path navigation), never a CLI option ('-x'), never a
/// hidden name ('.x'), and the same in every actor path, file name and shell.
/// </summary>
public static class VmId
{
    public const int MaxLength = 128;

    /// <summary>The grammar in words, for error messages and docs.</summary>
    public const string Rule =
        "1-128 characters among ASCII letters, digits, '.', '_' and '-', starting with a letter, a digit or '_'";

    public static bool IsValid(string? id) => Problem(id) is null;

    /// <summary>Why <paramref name="id"/> is not a VM id, or null when it is one.</summary>
    public static string? Problem(string? id)
    {
        if (string.IsNullOrEmpty(id) || id.Length > MaxLength || !IsFirst(id[0]) || !id.All(IsPart))
        {
            return $"invalid VM id '{Shown(id)}': use {Rule}";
        }

        return null;
    }

    private static bool IsFirst(char c) => char.IsAsciiLetterOrDigit(c) || c == '_';

    private static bool IsPart(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-';

    // An error message quotes the id, not a megabyte of it or a terminal escape.
    private static string Shown(string? id)
    {
        var text = id ?? "";
        text = text.Length > MaxLength + 8 ? text[..(MaxLength + 8)] + "…" : text;
        return string.Concat(text.Select(c => char.IsControl(c) ? '?' : c));
    }
}
