// The project's HAPI FHIR R4 validator launcher: validates FHIR JSON resources against the base R4
// specification and prints one OperationOutcome (JSON) per resource.
//
//   java -cp "lib/*:classes" Validate [--preload file.json ...] [--serve | file.json ...]
//
// --preload: conformance resources (our own CodeSystems, a Bundle of them) loaded before anything is
//   validated, so codes from the project's code systems are checked against their definitions.
// --serve: reads one resource per line on stdin and answers one OperationOutcome per line on stdout,
//   in order, so a test pays for the JVM and the R4 definitions once rather than per resource.
// Otherwise each file argument is validated in turn (`-` for stdin) and the outcome printed.
import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.support.DefaultProfileValidationSupport;
import ca.uhn.fhir.context.support.IValidationSupport;
import ca.uhn.fhir.parser.IParser;
import ca.uhn.fhir.validation.FhirValidator;
import ca.uhn.fhir.validation.ValidationResult;
import org.hl7.fhir.common.hapi.validation.support.CommonCodeSystemsTerminologyService;
import org.hl7.fhir.common.hapi.validation.support.InMemoryTerminologyServerValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.PrePopulatedValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.SnapshotGeneratingValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.UnknownCodeSystemWarningValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.ValidationSupportChain;
import org.hl7.fhir.common.hapi.validation.validator.FhirInstanceValidator;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.OperationOutcome;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

public class Validate {
  public static void main(String[] args) throws Exception {
    List<String> preload = new ArrayList<>();
    List<String> files = new ArrayList<>();
    boolean serve = false;
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--preload") && i + 1 < args.length) preload.add(args[++i]);
      else if (args[i].equals("--serve")) serve = true;
      else files.add(args[i]);
    }

    FhirContext ctx = FhirContext.forR4Cached();
    IParser parser = ctx.newJsonParser();
    PrePopulatedValidationSupport ours = new PrePopulatedValidationSupport(ctx);
    for (String file : preload) {
      IBaseResource resource = parser.parseResource(Files.readString(Path.of(file), StandardCharsets.UTF_8));
      if (resource instanceof Bundle bundle) {
        for (Bundle.BundleEntryComponent entry : bundle.getEntry()) ours.addResource(entry.getResource());
      } else {
        ours.addResource(resource);
      }
    }
    // Without a terminology server, SNOMED CT and LOINC cannot be looked up: their codes are reported
    // as warnings (counted by the tests), never silently passed and never turned into errors.
    UnknownCodeSystemWarningValidationSupport unknown = new UnknownCodeSystemWarningValidationSupport(ctx);
    unknown.setNonExistentCodeSystemSeverity(IValidationSupport.IssueSeverity.WARNING);
    ValidationSupportChain chain = new ValidationSupportChain(
        new DefaultProfileValidationSupport(ctx),
        ours,
        new CommonCodeSystemsTerminologyService(ctx),
        new InMemoryTerminologyServerValidationSupport(ctx),
        new SnapshotGeneratingValidationSupport(ctx),
        unknown);
    FhirInstanceValidator module = new FhirInstanceValidator(chain);
    FhirValidator validator = ctx.newValidator().registerValidatorModule(module);

    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    if (serve) {
      // One line in, one line out; an unparsable line answers an error outcome rather than ending the run.
      out.println("{\"ready\":true}");
      BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      String line;
      while ((line = in.readLine()) != null) {
        if (line.isBlank()) continue;
        out.println(validate(ctx, validator, line));
      }
      return;
    }
    int errors = 0;
    for (String file : files) {
      String text = file.equals("-")
          ? new String(System.in.readAllBytes(), StandardCharsets.UTF_8)
          : Files.readString(Path.of(file), StandardCharsets.UTF_8);
      String outcome = validate(ctx, validator, text);
      if (outcome.contains("\"severity\":\"error\"") || outcome.contains("\"severity\":\"fatal\"")) errors++;
      out.println(outcome);
    }
    System.exit(errors == 0 ? 0 : 1);
  }

  private static String validate(FhirContext ctx, FhirValidator validator, String json) {
    IParser compact = ctx.newJsonParser().setPrettyPrint(false);
    try {
      ValidationResult result = validator.validateWithResult(json);
      return compact.encodeResourceToString(result.toOperationOutcome());
    } catch (RuntimeException e) {
      OperationOutcome oo = new OperationOutcome();
      oo.addIssue()
          .setSeverity(OperationOutcome.IssueSeverity.FATAL)
          .setCode(OperationOutcome.IssueType.STRUCTURE)
          .setDiagnostics("the validator could not read the resource: " + e.getClass().getSimpleName());
      return compact.encodeResourceToString(oo);
    }
  }
}
