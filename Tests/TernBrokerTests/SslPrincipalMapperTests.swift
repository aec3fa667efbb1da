import TernBroker
import Testing

/// `ssl.principal.mapping.rules`, with the cases of Kafka's own `SslPrincipalMapperTest`.
@Suite struct SslPrincipalMapperTests {
    static let kafkasRules =
        "RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/,"
        + "RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/L,"
        + "RULE:^cn=(.*?),ou=(.*?),dc=(.*?),dc=(.*?)$/$1@$2/U,"
        + "RULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/U,"
        + "DEFAULT"

    @Test(arguments: [
        ("CN=Duke,OU=ServiceUsers,O=Org,C=US", "Duke"),
        ("CN=Duke,OU=SME,O=mycp,L=Fulton,ST=MD,C=US", "duke@sme"),
        ("cn=duke,ou=sme,dc=mycp,dc=com", "DUKE@SME"),
        ("cN=duke,OU=JavaSoft,O=Sun Microsystems", "DUKE"),
        ("OU=JavaSoft,O=Sun Microsystems,C=US", "OU=JavaSoft,O=Sun Microsystems,C=US"),
    ])
    func rulesApplyInOrder(distinguishedName: String, userName: String) throws {
        let mapper = try SslPrincipalMapper(rules: Self.kafkasRules)
        #expect(mapper.userName(forDistinguishedName: distinguishedName) == userName)
    }

    @Test(arguments: [
        "DEFAULT", "RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/", "RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L",
        "RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/L",
        "RULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/L", "RULE:^cn=(.?),ou=(.?),dc=(.?),dc=(.?)$/$1@$2/U",
        "RULE:^CN=([^,ADEFLTU,]+)(,.*|$)/$1/", "RULE:^CN=([^,DEFAULT,]+)(,.*|$)/$1/",
        "  RULE:^CN=(.*)$/$1/ ,\n DEFAULT ", "RULE:^CN=(.*)\\/x$/a\\/$1/",
    ])
    func validRules(rules: String) throws {
        _ = try SslPrincipalMapper(rules: rules)
    }

    @Test(arguments: [
        "DEFAULT/L", "DEFAUL", "DEFAULT/U", "RULE:/", "RULE:^CN=(.*?),OU=ServiceUsers.*$",
        "RULE:^CN=(.*?),OU=ServiceUsers.*$/", "RULE:^CN=(.*?),OU=ServiceUsers.*$/LU",
        "RULE:^CN=(.*?),OU=ServiceUsers.*$/$1", "RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/Precise",
        "RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/UPPER", "RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/LU",
        "RULE   ^CN=(.*?),OU=ServiceUsers.*$/$1/", "RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L/U",
        "RULE:^CN=((.*$/$1/",
    ])
    func invalidRulesAreRefused(rules: String) {
        #expect(throws: SslPrincipalMapper.InvalidRules.self) { try SslPrincipalMapper(rules: rules) }
    }

    @Test func withoutDefaultANameNoRuleMatchesHasNoPrincipal() throws {
        let mapper = try SslPrincipalMapper(rules: "RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/")
        #expect(mapper.userName(forDistinguishedName: "CN=alice,OU=ServiceUsers") == "alice")
        #expect(mapper.userName(forDistinguishedName: "CN=mallory,OU=Outsiders") == nil)
        #expect(SslPrincipalMapper.default.userName(forDistinguishedName: "CN=alice") == "CN=alice")
        // An escaped slash in the pattern and the replacement.
        let slashes = try SslPrincipalMapper(rules: "RULE:^CN=(.*)\\/x$/a\\/$1/")
        #expect(slashes.userName(forDistinguishedName: "CN=b/x") == "a/b")
    }
}
