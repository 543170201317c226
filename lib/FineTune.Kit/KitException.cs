namespace FineTune.Kit;

/// <summary>Base of every error the kit raises about its input: the message says what was wrong and where.</summary>
public class KitException : Exception
{
    /// <summary>Creates the error with a message a user can act on.</summary>
    public KitException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>A model folder, config or tensor file is missing, malformed or does not fit the architecture.</summary>
public class ModelFormatException(string message, Exception? inner = null) : KitException(message, inner);

/// <summary>A data file or row is malformed (the message names file and line).</summary>
public class DataFormatException(string message, Exception? inner = null) : KitException(message, inner);

/// <summary>A tokenizer file is missing or malformed.</summary>
public class TokenizerFormatException(string message, Exception? inner = null) : KitException(message, inner);

/// <summary>An adapter does not fit the model it is applied to, or its files are malformed.</summary>
public class AdapterFormatException(string message, Exception? inner = null) : KitException(message, inner);
