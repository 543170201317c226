using System.Collections.Immutable;
using System.Reflection.Emit;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

namespace FineTune.Kit.Tests.Architecture;

/// <summary>One type of an assembly using another: <c>From</c> names the using type, <c>To</c> the used one.</summary>
internal sealed record TypeUse(string FromNamespace, string FromType, string ToNamespace, string ToType);

/// <summary>
/// Reads an assembly's metadata and lists which of its types use which of its other types: base types,
/// interfaces, field, method and local variable signatures, generic arguments and constraints, and every type,
/// method and field token in method bodies (so a call inside a lambda counts for the type that wrote it).
/// Compiler-generated nested types count as their outermost declaring type.
/// </summary>
internal static class NamespaceReferences
{
    /// <summary>Every use between two types of the assembly at <paramref name="path"/> whose namespaces start with <paramref name="prefix"/>.</summary>
    public static IReadOnlyList<TypeUse> Read(string path, string prefix)
    {
        using var pe = new PEReader(File.OpenRead(path));
        var md = pe.GetMetadataReader();
        var names = new TypeNames(md);
        var uses = new HashSet<TypeUse>();
        foreach (var handle in md.TypeDefinitions)
        {
            var (fromNs, fromType) = names.Outermost(handle);
            if (!InScope(fromNs, prefix)) continue;
            foreach (var (toNs, toType) in UsedBy(pe, md, names, handle))
                if (InScope(toNs, prefix) && (toNs, toType) != (fromNs, fromType))
                    uses.Add(new TypeUse(fromNs, fromType, toNs, toType));
        }
        return [.. uses];
    }

    private static bool InScope(string ns, string prefix) => ns == prefix || ns.StartsWith(prefix + ".", StringComparison.Ordinal);

    private static IEnumerable<(string Ns, string Type)> UsedBy(PEReader pe, MetadataReader md, TypeNames names, TypeDefinitionHandle handle)
    {
        var type = md.GetTypeDefinition(handle);
        var found = new List<(string, string)>();
        if (!type.BaseType.IsNil) found.AddRange(names.OfEntity(type.BaseType));
        foreach (var i in type.GetInterfaceImplementations()) found.AddRange(names.OfEntity(md.GetInterfaceImplementation(i).Interface));
        found.AddRange(Constraints(md, names, type.GetGenericParameters()));
        foreach (var f in type.GetFields()) found.AddRange(md.GetFieldDefinition(f).DecodeSignature(names, null));
        foreach (var m in type.GetMethods())
        {
            var method = md.GetMethodDefinition(m);
            var signature = method.DecodeSignature(names, null);
            found.AddRange(signature.ReturnType);
            foreach (var p in signature.ParameterTypes) found.AddRange(p);
            found.AddRange(Constraints(md, names, method.GetGenericParameters()));
            if (method.RelativeVirtualAddress == 0) continue;
            var body = pe.GetMethodBody(method.RelativeVirtualAddress);
            if (!body.LocalSignature.IsNil)
                foreach (var local in md.GetStandaloneSignature(body.LocalSignature).DecodeLocalSignature(names, null))
                    found.AddRange(local);
            var il = body.GetILReader();
            foreach (var token in Il.Tokens(il)) found.AddRange(names.OfEntity(MetadataTokens.EntityHandle(token)));
        }
        return found;
    }

    private static IEnumerable<(string, string)> Constraints(MetadataReader md, TypeNames names, GenericParameterHandleCollection parameters)
    {
        foreach (var p in parameters)
            foreach (var c in md.GetGenericParameter(p).GetConstraints())
                foreach (var t in names.OfEntity(md.GetGenericParameterConstraint(c).Type))
                    yield return t;
    }

    /// <summary>The metadata tokens (types, methods, fields) that a method body's instructions name.</summary>
    private static class Il
    {
        private static readonly Dictionary<int, OperandType> Operands = typeof(OpCodes)
            .GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)
            .Select(f => (OpCode)f.GetValue(null)!)
            .ToDictionary(o => (int)(ushort)o.Value, o => o.OperandType);

        public static List<int> Tokens(BlobReader il)
        {
            var tokens = new List<int>();
            while (il.RemainingBytes > 0)
            {
                int code = il.ReadByte();
                if (code == 0xFE) code = 0xFE00 | il.ReadByte();
                switch (Operands[code])
                {
                    case OperandType.InlineField:
                    case OperandType.InlineMethod:
                    case OperandType.InlineTok:
                    case OperandType.InlineType:
                        tokens.Add(il.ReadInt32());
                        break;
                    case OperandType.InlineNone:
                        break;
                    case OperandType.ShortInlineBrTarget:
                    case OperandType.ShortInlineI:
                    case OperandType.ShortInlineVar:
                        il.Offset += 1;
                        break;
                    case OperandType.InlineVar:
                        il.Offset += 2;
                        break;
                    case OperandType.InlineI8:
                    case OperandType.InlineR:
                        il.Offset += 8;
                        break;
                    case OperandType.InlineSwitch:
                        var count = il.ReadInt32();
                        il.Offset += 4 * count;
                        break;
                    default: // InlineBrTarget, InlineI, InlineSig, InlineString, ShortInlineR
                        il.Offset += 4;
                        break;
                }
            }
            return tokens;
        }
    }

    /// <summary>Decodes signatures into the (namespace, type) pairs they mention.</summary>
    private sealed class TypeNames(MetadataReader md) : ISignatureTypeProvider<ImmutableArray<(string Ns, string Type)>, object?>
    {
        private static readonly ImmutableArray<(string, string)> None = [];

        public (string Ns, string Type) Outermost(TypeDefinitionHandle handle)
        {
            var type = md.GetTypeDefinition(handle);
            while (type.IsNested) type = md.GetTypeDefinition(type.GetDeclaringType());
            return (md.GetString(type.Namespace), md.GetString(type.Name));
        }

        private (string Ns, string Type) Outermost(TypeReferenceHandle handle)
        {
            var type = md.GetTypeReference(handle);
            while (type.ResolutionScope.Kind == HandleKind.TypeReference) type = md.GetTypeReference((TypeReferenceHandle)type.ResolutionScope);
            return (md.GetString(type.Namespace), md.GetString(type.Name));
        }

        public ImmutableArray<(string Ns, string Type)> OfEntity(EntityHandle handle) => handle.Kind switch
        {
            HandleKind.TypeDefinition => [Outermost((TypeDefinitionHandle)handle)],
            HandleKind.TypeReference => [Outermost((TypeReferenceHandle)handle)],
            HandleKind.TypeSpecification => md.GetTypeSpecification((TypeSpecificationHandle)handle).DecodeSignature(this, null),
            HandleKind.MethodDefinition => [Outermost(md.GetMethodDefinition((MethodDefinitionHandle)handle).GetDeclaringType())],
            HandleKind.FieldDefinition => [Outermost(md.GetFieldDefinition((FieldDefinitionHandle)handle).GetDeclaringType())],
            HandleKind.MemberReference => OfEntity(md.GetMemberReference((MemberReferenceHandle)handle).Parent),
            HandleKind.MethodSpecification => MethodSpecification((MethodSpecificationHandle)handle),
            _ => None,
        };

        private ImmutableArray<(string, string)> MethodSpecification(MethodSpecificationHandle handle)
        {
            var spec = md.GetMethodSpecification(handle);
            return [.. OfEntity(spec.Method), .. spec.DecodeSignature(this, null).SelectMany(a => a)];
        }

        public ImmutableArray<(string, string)> GetPrimitiveType(PrimitiveTypeCode typeCode) => None;
        public ImmutableArray<(string, string)> GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind) => [Outermost(handle)];
        public ImmutableArray<(string, string)> GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind) => [Outermost(handle)];
        public ImmutableArray<(string, string)> GetTypeFromSpecification(MetadataReader reader, object? genericContext, TypeSpecificationHandle handle, byte rawTypeKind) =>
            reader.GetTypeSpecification(handle).DecodeSignature(this, genericContext);
        public ImmutableArray<(string, string)> GetSZArrayType(ImmutableArray<(string, string)> elementType) => elementType;
        public ImmutableArray<(string, string)> GetArrayType(ImmutableArray<(string, string)> elementType, ArrayShape shape) => elementType;
        public ImmutableArray<(string, string)> GetByReferenceType(ImmutableArray<(string, string)> elementType) => elementType;
        public ImmutableArray<(string, string)> GetPointerType(ImmutableArray<(string, string)> elementType) => elementType;
        public ImmutableArray<(string, string)> GetPinnedType(ImmutableArray<(string, string)> elementType) => elementType;
        public ImmutableArray<(string, string)> GetModifiedType(ImmutableArray<(string, string)> modifier, ImmutableArray<(string, string)> unmodifiedType, bool isRequired) => unmodifiedType;
        public ImmutableArray<(string, string)> GetGenericInstantiation(ImmutableArray<(string, string)> genericType, ImmutableArray<ImmutableArray<(string, string)>> typeArguments) =>
            [.. genericType, .. typeArguments.SelectMany(a => a)];
        public ImmutableArray<(string, string)> GetGenericMethodParameter(object? genericContext, int index) => None;
        public ImmutableArray<(string, string)> GetGenericTypeParameter(object? genericContext, int index) => None;
        public ImmutableArray<(string, string)> GetFunctionPointerType(MethodSignature<ImmutableArray<(string, string)>> signature) =>
            [.. signature.ReturnType, .. signature.ParameterTypes.SelectMany(p => p)];
    }
}
